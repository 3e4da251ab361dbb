"""A person's identifiers as stored: owner, first and last seen."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cdp.store import Stores


async def identifiers_of(
    stores: Stores, families: Sequence[Sequence[str]]
) -> list[list[dict[str, Any]]]:
    """Each family's identifiers by key, for many persons in one read."""
    docs = await stores.identifiers.of_persons({p for family in families for p in family})
    by_person: dict[str, list[dict[str, Any]]] = {}
    for doc in docs:
        by_person.setdefault(doc["person_id"], []).append(doc)
    return [
        sorted((d for p in family for d in by_person.get(p, [])), key=lambda d: d["_id"])
        for family in families
    ]
