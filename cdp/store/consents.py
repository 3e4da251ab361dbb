"""The ``consents`` collection: every consent decision, kept with its time and source."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from pymongo.asynchronous.database import AsyncDatabase

from cdp.store.database import Document, chunked


class ConsentStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._collection = db["consents"]

    async def record(self, decision: Document) -> None:
        await self._collection.insert_one({"_id": uuid.uuid4().hex, **decision})

    async def of_persons(self, person_ids: Iterable[str]) -> list[Document]:
        """Every decision for these persons, oldest first."""
        found: list[Document] = []
        for chunk in chunked(person_ids):
            found += await self._collection.find({"person_id": {"$in": chunk}}).to_list()
        return sorted(found, key=lambda doc: (doc["at"], doc["_id"]))

    async def delete_of(self, person_ids: Iterable[str]) -> None:
        for chunk in chunked(person_ids):
            await self._collection.delete_many({"person_id": {"$in": chunk}})

    async def repoint(self, from_person: str, to_person: str) -> None:
        await self._collection.update_many(
            {"person_id": from_person}, {"$set": {"person_id": to_person}}
        )
