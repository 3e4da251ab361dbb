"""The ``products`` collection (``_id`` is the sku) and the mined ``offer_rules``."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pymongo import ReplaceOne
from pymongo.asynchronous.database import AsyncDatabase

from cdp.store.database import Document, chunked


class ProductStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._collection = db["products"]
        self._rules = db["offer_rules"]

    async def upsert(self, documents: Sequence[Document]) -> None:
        if documents:
            await self._collection.bulk_write(
                [ReplaceOne({"_id": d["_id"]}, d, upsert=True) for d in documents], ordered=False
            )

    async def get_many(self, skus: Iterable[str]) -> dict[str, Document]:
        found: dict[str, Document] = {}
        for chunk in chunked(skus):
            async for doc in self._collection.find({"_id": {"$in": chunk}}):
                found[doc["_id"]] = doc
        return found

    async def in_categories(self, categories: Iterable[str], limit: int) -> list[Document]:
        wanted = list(categories)
        if not wanted:
            return []
        cursor = self._collection.find({"category": {"$in": wanted[:50]}}).limit(limit)
        return await cursor.to_list()

    async def replace_rules(self, source: str, generation: str, rules: Sequence[Document]) -> None:
        """Swap one source's mined rules for new ones (old ones removed once the new are in)."""
        for start in range(0, len(rules), 1000):
            await self._rules.insert_many(list(rules[start : start + 1000]), ordered=False)
        await self._rules.delete_many({"source": source, "generation": {"$ne": generation}})

    async def rules_from(self, skus: Iterable[str]) -> list[Document]:
        """Rules of both kinds whose left side holds one of these skus (the caller checks
        the rest and tells the kinds apart by ``source``)."""
        found: dict[str, Document] = {}
        for chunk in chunked(skus):
            async for doc in self._rules.find({"antecedent": {"$in": chunk}}):
                found[doc["_id"]] = doc
        return list(found.values())

    async def rules_page(self, min_lift: float, after: int, first: int) -> list[Document]:
        """Purchase rules by rank (strongest lift first)."""
        cursor = (
            self._rules.find({"lift": {"$gte": min_lift}, "source": "purchase"})
            .sort([("rank", 1)])
            .skip(after)
            .limit(first + 1)
        )
        return await cursor.to_list()
