"""The ``models`` collection: models fitted on the whole customer base, by name."""

from __future__ import annotations

from pymongo.asynchronous.database import AsyncDatabase

from cdp.store.database import Document
from cdp.store.remembered import Remembered


class ModelStore:
    def __init__(self, db: AsyncDatabase[Document], remember_seconds: float = 1.0) -> None:
        self._collection = db["models"]
        # A handful of small documents, read together and kept for a moment.
        self._all = Remembered(self._read_all, remember_seconds)

    async def save(self, name: str, model: Document) -> None:
        await self._collection.replace_one({"_id": name}, {"_id": name, **model}, upsert=True)
        self._all.forget()

    async def get(self, name: str) -> Document | None:
        return (await self._all.get()).get(name)

    async def _read_all(self) -> dict[str, Document]:
        return {doc["_id"]: doc async for doc in self._collection.find()}
