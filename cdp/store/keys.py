"""The ``api_keys`` collection: key hashes (never keys), names, scopes, revocation."""

from __future__ import annotations

from datetime import datetime

from pymongo.asynchronous.database import AsyncDatabase

from cdp.store.database import Document, insert_fresh


class KeyStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._collection = db["api_keys"]

    async def create(
        self, key_id: str, name: str, hashed: str, scopes: list[str], now: datetime
    ) -> None:
        key = {"_id": key_id, "name": name, "hash": hashed, "scopes": scopes, "created_at": now}
        await insert_fresh(self._collection, [key])  # a fresh id: a duplicate is this insert

    async def active(self, hashed: str) -> Document | None:
        return await self._collection.find_one({"hash": hashed, "revoked_at": None})

    async def all(self) -> list[Document]:
        return await self._collection.find({}, {"hash": 0}).sort("created_at", 1).to_list()

    async def revoke(self, key_id: str, now: datetime) -> bool:
        result = await self._collection.update_one(
            {"_id": key_id, "revoked_at": None}, {"$set": {"revoked_at": now}}
        )
        return result.modified_count == 1

    async def any(self) -> bool:
        return await self._collection.count_documents({}, limit=1) > 0

    async def ensure(
        self, key_id: str, name: str, hashed: str, scopes: list[str], now: datetime
    ) -> None:
        """Create the key with this id unless it exists (the bootstrap admin key)."""
        await self._collection.update_one(
            {"_id": key_id},
            {"$setOnInsert": {"name": name, "hash": hashed, "scopes": scopes, "created_at": now}},
            upsert=True,
        )
