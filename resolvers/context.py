"""The per-request GraphQL context: dependencies, the caller, per-request caches."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import strawberry
from strawberry.dataloader import DataLoader

from cdp.access import Principal
from cdp.deps import Deps


@dataclass(slots=True)
class Context:
    """Built fresh for every request, so DataLoader caches never outlive it."""

    deps: Deps
    principal: Principal
    identifiers: DataLoader[tuple[str, ...], list[dict[str, Any]]] = field(init=False)

    def __post_init__(self) -> None:
        self.identifiers = DataLoader(load_fn=self._load_identifiers)

    async def _load_identifiers(
        self, families: list[tuple[str, ...]]
    ) -> list[list[dict[str, Any]]]:
        """The identifiers of many persons (each a family of ids) in one query."""
        docs = await self.deps.stores.identifiers.of_persons({p for f in families for p in f})
        by_person: dict[str, list[dict[str, Any]]] = {}
        for doc in docs:
            by_person.setdefault(doc["person_id"], []).append(doc)
        return [
            sorted((d for p in family for d in by_person.get(p, [])), key=lambda d: d["_id"])
            for family in families
        ]


Info = strawberry.Info[Context, None]
