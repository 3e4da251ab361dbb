"""The ``consents`` collection: every consent decision, kept with its time and source."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping

from pymongo.asynchronous.database import AsyncDatabase

from cdp.store.database import Document, chunked, find_in, insert_fresh, repoint


class ConsentStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._collection = db["consents"]

    async def record(self, decision: Document) -> None:
        await self.record_many([decision])

    async def record_many(self, decisions: Iterable[Document]) -> None:
        fresh = [{"_id": uuid.uuid4().hex, **decision} for decision in decisions]
        if fresh:
            await insert_fresh(self._collection, fresh)

    async def of_persons(self, person_ids: Iterable[str]) -> list[Document]:
        """Every decision for these persons, oldest first."""
        found = [doc async for doc in find_in(self._collection, "person_id", person_ids)]
        return oldest_first(found)

    async def delete_of(self, person_ids: Iterable[str]) -> None:
        for chunk in chunked(person_ids):
            await self._collection.delete_many({"person_id": {"$in": chunk}})

    async def repoint_many(self, moves: Mapping[str, str]) -> None:
        await repoint(self._collection, moves)


def oldest_first(decisions: Iterable[Document]) -> list[Document]:
    """Consent decisions in the order they were made (the last one of a purpose and
    channel is the one in force)."""
    return sorted(decisions, key=lambda doc: (doc["at"], doc["_id"]))
