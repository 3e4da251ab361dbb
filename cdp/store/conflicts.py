"""The ``conflicts`` collection: links the identity rules refused, kept for review."""

from __future__ import annotations

from collections.abc import Sequence

from pymongo.asynchronous.database import AsyncDatabase

from cdp.profile.timeline import Position
from cdp.store.database import Document, insert_unless_present


class ConflictStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._collection = db["conflicts"]

    async def record(self, conflicts: Sequence[Document]) -> None:
        """Store conflicts; ``_id`` is event and identifier, so a replay records nothing twice."""
        await insert_unless_present(self._collection, list(conflicts))

    async def page(self, first: int, after: Position | None) -> list[Document]:
        """Newest first, one extra when there is a next page."""
        match: Document = {}
        if after is not None:
            at, conflict_id = after.timestamp, after.id
            match = {"$or": [{"at": {"$lt": at}}, {"at": at, "_id": {"$lt": conflict_id}}]}
        cursor = self._collection.find(match).sort([("at", -1), ("_id", -1)]).limit(first + 1)
        return await cursor.to_list()

    async def involving(self, person_ids: list[str], keys: list[str]) -> list[Document]:
        match = {
            "$or": [
                {"person_id": {"$in": person_ids}},
                {"other_id": {"$in": person_ids}},
                {"key": {"$in": keys}},
            ]
        }
        return await self._collection.find(match).to_list()

    async def delete_involving(self, person_ids: list[str], keys: list[str]) -> None:
        await self._collection.delete_many(
            {
                "$or": [
                    {"person_id": {"$in": person_ids}},
                    {"other_id": {"$in": person_ids}},
                    {"key": {"$in": keys}},
                ]
            }
        )

    async def delete(self, conflict_id: str) -> bool:
        """Remove one conflict (an agent dismissed it); whether it was there."""
        return (await self._collection.delete_one({"_id": conflict_id})).deleted_count == 1

    async def count(self) -> int:
        return await self._collection.count_documents({})
