"""The ``config`` collection: settings an admin changes at run time (identity rules)."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from cdp.store.database import Document

IDENTITY_RULES = "identity_rules"


class ConfigStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._collection = db["config"]

    async def identity_rules(self) -> dict[str, dict[str, Any]]:
        """Rule overrides per identifier type, as an admin last set them."""
        doc = await self._collection.find_one({"_id": IDENTITY_RULES})
        return dict(doc["types"]) if doc else {}

    async def set_identity_rules(self, types: dict[str, dict[str, Any]]) -> None:
        await self._collection.replace_one(
            {"_id": IDENTITY_RULES}, {"_id": IDENTITY_RULES, "types": types}, upsert=True
        )
