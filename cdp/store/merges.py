"""The ``merges`` collection: an audit record of every merge and unlink, to explain and undo."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

from pymongo.asynchronous.database import AsyncDatabase

from cdp.store.database import (
    Document,
    find_in,
    insert_fresh,
    insert_unless_present,
)


class MergeStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._collection = db["merges"]

    async def record(self, record: Document) -> str:
        """Store one audit record (a merge or an unlink); returns its id."""
        record_id = uuid.uuid4().hex
        await insert_fresh(self._collection, [{"_id": record_id, **record}])
        return record_id

    async def existing(self, record_ids: Iterable[str]) -> set[str]:
        """The ids among ``record_ids`` that have a record."""
        return {
            doc["_id"] async for doc in find_in(self._collection, "_id", record_ids, {"_id": 1})
        }

    async def record_many(self, records: Sequence[Document]) -> None:
        """Store records whose ``_id`` says what they are about; a repeat changes nothing."""
        await insert_unless_present(self._collection, list(records))

    async def delete_involving(self, person_ids: list[str], keys: list[str]) -> None:
        """Delete the records about these persons; scrub their identifiers from others."""
        for field in ("survivor", "absorbed", "created"):  # indexed, one at a time
            await self._collection.delete_many({field: {"$in": person_ids}})
        await self._collection.update_many(
            {"identifiers": {"$in": keys}}, {"$pull": {"identifiers": {"$in": keys}}}
        )

    async def involving(self, person_ids: list[str]) -> list[Document]:
        """Records where these persons survived, were absorbed or were split off, oldest
        first. One indexed read per field rather than one ``$or``, which the embedded
        server answers by scanning the collection."""
        found: dict[str, Document] = {}
        for field in ("survivor", "absorbed", "created"):
            async for doc in find_in(self._collection, field, person_ids):
                found[doc["_id"]] = doc
        return sorted(found.values(), key=lambda doc: (doc["at"], doc["_id"]))
