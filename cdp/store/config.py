"""The ``config`` collection: settings an admin changes at run time (identity rules),
and counts kept beside them (placeholders dropped)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from cdp.store.database import Document
from cdp.store.remembered import Remembered

IDENTITY_RULES = "identity_rules"
BLOCKED_IDENTIFIERS = "blocked_identifiers"
DEMO = "demo"
RULE_CHANGES_KEPT = 100


class ConfigStore:
    def __init__(self, db: AsyncDatabase[Document], remember_seconds: float = 1.0) -> None:
        self._collection = db["config"]
        self._rules = Remembered(self._read_rules, remember_seconds)

    async def identity_rules(self) -> dict[str, dict[str, Any]]:
        """Rule overrides per identifier type, as an admin last set them."""
        return dict(await self._rules.get())

    async def _read_rules(self) -> dict[str, dict[str, Any]]:
        doc = await self._collection.find_one({"_id": IDENTITY_RULES})
        return dict(doc["types"]) if doc else {}

    async def set_identity_rules(
        self, types: dict[str, dict[str, Any]], change: dict[str, Any] | None = None
    ) -> None:
        """Store the rules in force and append ``change`` (who, when, what) to the last
        hundred changes."""
        update: dict[str, Any] = {"$set": {"types": types}}
        if change is not None:
            update["$push"] = {"history": {"$each": [change], "$slice": -RULE_CHANGES_KEPT}}
        await self._collection.update_one({"_id": IDENTITY_RULES}, update, upsert=True)
        self._rules.forget()

    async def identity_rule_changes(self) -> list[dict[str, Any]]:
        """The last changes to the identity rules, newest first."""
        doc = await self._collection.find_one({"_id": IDENTITY_RULES}, {"history": 1})
        return list(reversed(doc.get("history", []))) if doc else []

    async def count_blocked(self, counts: Mapping[str, int]) -> None:
        """Add to the count of placeholder identifiers dropped, per type."""
        await self._collection.update_one(
            {"_id": BLOCKED_IDENTIFIERS},
            {"$inc": {f"types.{type_}": n for type_, n in counts.items()}},
            upsert=True,
        )

    async def blocked_counts(self) -> dict[str, int]:
        doc = await self._collection.find_one({"_id": BLOCKED_IDENTIFIERS})
        return dict(doc["types"]) if doc else {}

    async def demo_state(self) -> Document | None:
        """Whether demo data was loaded here (``loading`` until it finished), and which."""
        return await self._collection.find_one({"_id": DEMO})

    async def set_demo_state(self, state: Mapping[str, Any]) -> None:
        await self._collection.replace_one({"_id": DEMO}, {"_id": DEMO, **state}, upsert=True)
