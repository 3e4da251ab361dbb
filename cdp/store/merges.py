"""The ``merges`` collection: an audit record for every merge, for explaining and undoing."""

from __future__ import annotations

import uuid
from datetime import datetime

from pymongo.asynchronous.database import AsyncDatabase

from cdp.store.database import Document


class MergeStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._collection = db["merges"]

    async def record(
        self, *, survivor: str, absorbed: str, event_id: str | None, reason: str, at: datetime
    ) -> None:
        await self._collection.insert_one(
            {
                "_id": uuid.uuid4().hex,
                "survivor": survivor,
                "absorbed": absorbed,
                "event_id": event_id,
                "reason": reason,
                "at": at,
            }
        )

    async def involving(self, person_ids: list[str]) -> list[Document]:
        cursor = self._collection.find(
            {"$or": [{"survivor": {"$in": person_ids}}, {"absorbed": {"$in": person_ids}}]}
        ).sort("at", 1)
        return await cursor.to_list()
