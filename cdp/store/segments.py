"""The ``segments`` collection: user-defined segments and the interest segments found so
far (built-in ones live in code). A user segment's name is unique, case-insensitively."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar, cast

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from cdp.store.database import Document, find_in, insert_unless_present
from cdp.store.remembered import Remembered

T = TypeVar("T")


class SegmentStore:
    def __init__(self, db: AsyncDatabase[Document], remember_seconds: float = 1.0) -> None:
        self._collection = db["segments"]
        self._all = Remembered(self._read_all, remember_seconds)
        self._derived: dict[str, tuple[Document, object]] = {}

    async def all(self) -> list[Document]:
        """Every stored segment, by id (kept for a moment: each refresh reads them)."""
        return list(await self._all.get())

    async def _read_all(self) -> list[Document]:
        docs = await self._collection.find().sort("_id", 1).to_list()
        present = {doc["_id"] for doc in docs}
        self._derived = {key: kept for key, kept in self._derived.items() if key in present}
        return docs

    def derived(self, doc: Document, derive: Callable[[Document], T]) -> T:
        """``derive(doc)`` (a parsed definition), computed once per document this store
        read: every refresh asks for every segment, and parsing each stored rule again
        was about 3% of a single event's service time. A document read again is derived
        again, so a changed segment never answers with what its old document gave; a
        segment deleted is forgotten at the next read of them all."""
        kept = self._derived.get(doc["_id"])
        if kept is not None and kept[0] is doc:
            return cast(T, kept[1])
        value = derive(doc)
        self._derived[doc["_id"]] = (doc, value)
        return value

    async def get_many(self, segment_ids: Iterable[str]) -> list[Document]:
        return [doc async for doc in find_in(self._collection, "_id", sorted(segment_ids))]

    async def get(self, segment_id: str) -> Document | None:
        return await self._collection.find_one({"_id": segment_id})

    async def insert(self, document: Document) -> bool:
        """False when another segment already has this name.

        A duplicate of the document's own (freshly made) ``_id`` is this very insert,
        applied by a database that restarted before answering and sent again by PyMongo:
        the segment is there, which is success."""
        try:
            await self._collection.insert_one(document)
        except DuplicateKeyError:
            return await self._collection.find_one({"_id": document["_id"]}, {"_id": 1}) is not None
        finally:
            self._all.forget()
        return True

    async def replace(self, document: Document) -> bool | None:
        """None when the segment is gone, False when the new name is taken."""
        try:
            result = await self._collection.replace_one({"_id": document["_id"]}, document)
        except DuplicateKeyError:
            return False
        finally:
            self._all.forget()
        return None if result.matched_count == 0 else True

    async def delete(self, segment_id: str) -> bool:
        deleted = (await self._collection.delete_one({"_id": segment_id})).deleted_count == 1
        self._all.forget()
        return deleted

    async def add_interests(self, documents: Iterable[Document]) -> None:
        """Record interest segments the first time a topic is seen.

        Topics already among the segments this instance keeps are not written again: an
        interest segment is never deleted, and a refresh has just read them, so a person
        entering a known interest costs no command here.
        """
        known = {doc["_id"] for doc in await self.all()}
        wanted = [doc for doc in documents if doc["_id"] not in known]
        if not wanted:
            return
        if await insert_unless_present(self._collection, wanted) != {doc["_id"] for doc in wanted}:
            self._all.forget()  # something new was added
