"""The ``products`` collection (``_id`` is the sku) and the mined ``offer_rules``."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pymongo import ReplaceOne
from pymongo.asynchronous.database import AsyncDatabase

from cdp.store.catalogue import CatalogueVersion
from cdp.store.database import Document, chunked


class ProductStore:
    def __init__(self, db: AsyncDatabase[Document], version: CatalogueVersion) -> None:
        self._collection = db["products"]
        self._rules = db["offer_rules"]
        self._version = version  # bumped after each write, for the catalogue cache

    async def upsert(self, documents: Sequence[Document]) -> None:
        if documents:
            await self._collection.bulk_write(
                [ReplaceOne({"_id": d["_id"]}, d, upsert=True) for d in documents], ordered=False
            )
            await self._version.bump()

    async def get_many(self, skus: Iterable[str]) -> dict[str, Document]:
        found: dict[str, Document] = {}
        for chunk in chunked(skus):
            async for doc in self._collection.find({"_id": {"$in": chunk}}):
                found[doc["_id"]] = doc
        return found

    async def replace_rules(self, source: str, generation: str, rules: Sequence[Document]) -> None:
        """Swap one source's mined rules for new ones (old ones removed once the new are in)."""
        for start in range(0, len(rules), 1000):
            await self._rules.insert_many(list(rules[start : start + 1000]), ordered=False)
        await self._rules.delete_many({"source": source, "generation": {"$ne": generation}})
        await self._version.bump()

    async def rules_page(self, min_lift: float, after: int, first: int) -> list[Document]:
        """Purchase rules by rank (strongest lift first)."""
        cursor = (
            self._rules.find({"lift": {"$gte": min_lift}, "source": "purchase"})
            .sort([("rank", 1)])
            .skip(after)
            .limit(first + 1)
        )
        return await cursor.to_list()
