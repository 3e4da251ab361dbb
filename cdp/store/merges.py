"""The ``merges`` collection: an audit record of every merge and unlink, to explain and undo."""

from __future__ import annotations

import uuid

from pymongo.asynchronous.database import AsyncDatabase

from cdp.store.database import Document


class MergeStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._collection = db["merges"]

    async def record(self, record: Document) -> str:
        """Store one audit record (a merge or an unlink); returns its id."""
        record_id = uuid.uuid4().hex
        await self._collection.insert_one({"_id": record_id, **record})
        return record_id

    async def involving(self, person_ids: list[str]) -> list[Document]:
        cursor = self._collection.find(
            {"$or": [{"survivor": {"$in": person_ids}}, {"absorbed": {"$in": person_ids}}]}
        ).sort("at", 1)
        return await cursor.to_list()
