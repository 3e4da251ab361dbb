"""The ``models`` collection: models fitted on the whole customer base, by name."""

from __future__ import annotations

from pymongo.asynchronous.database import AsyncDatabase

from cdp.store.database import Document


class ModelStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._collection = db["models"]

    async def save(self, name: str, model: Document) -> None:
        await self._collection.replace_one({"_id": name}, {"_id": name, **model}, upsert=True)

    async def get(self, name: str) -> Document | None:
        return await self._collection.find_one({"_id": name})
