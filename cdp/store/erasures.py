"""The ``erasures`` collection: proof that a person was erased, with no personal data."""

from __future__ import annotations

from datetime import datetime

from pymongo.asynchronous.database import AsyncDatabase

from cdp.store.database import Document


class ErasureStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._collection = db["erasures"]

    async def begin(
        self, person_id: str, reason: str, now: datetime, agent: str | None = None
    ) -> None:
        started = {"reason": reason, "requested_at": now, "status": "erasing", "agent": agent}
        await self._collection.update_one(
            {"_id": person_id},
            {"$setOnInsert": started},
            upsert=True,
        )

    async def finish(self, person_id: str, now: datetime) -> Document:
        await self._collection.update_one(
            {"_id": person_id}, {"$set": {"status": "erased", "erased_at": now}}
        )
        doc = await self._collection.find_one({"_id": person_id})
        assert doc is not None
        return doc

    async def get(self, person_id: str) -> Document | None:
        return await self._collection.find_one({"_id": person_id})
