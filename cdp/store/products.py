"""The ``products`` collection (``_id`` is the sku) and the mined ``offer_rules``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from pymongo import UpdateOne
from pymongo.asynchronous.database import AsyncDatabase

from cdp.store.catalogue import CatalogueVersion
from cdp.store.database import Document, find_in, insert_fresh


class ProductStore:
    def __init__(self, db: AsyncDatabase[Document], version: CatalogueVersion) -> None:
        self._collection = db["products"]
        self._rules = db["offer_rules"]
        self._version = version  # bumped after each write, for the catalogue cache

    async def upsert(self, documents: Sequence[Document]) -> None:
        """Add or update products field by field (what mining adds, ``baskets``, stays)."""
        if documents:
            await self._collection.bulk_write(
                [
                    UpdateOne({"_id": d["_id"]}, {"$set": _without_id(d)}, upsert=True)
                    for d in documents
                ],
                ordered=False,
            )
            await self._version.bump()

    async def get_many(self, skus: Iterable[str]) -> dict[str, Document]:
        found: dict[str, Document] = {}
        async for doc in find_in(self._collection, "_id", skus):
            found[doc["_id"]] = doc
        return found

    async def set_sales(self, baskets: Mapping[str, int]) -> None:
        """Record in how many baskets each product was at the last mining (0 for the rest),
        the order of best sellers within a category."""
        await self._collection.update_many({}, {"$set": {"baskets": 0}})
        operations = [
            UpdateOne({"_id": sku}, {"$set": {"baskets": n}}) for sku, n in baskets.items()
        ]
        for start in range(0, len(operations), 1000):
            await self._collection.bulk_write(operations[start : start + 1000], ordered=False)
        await self._version.bump()

    async def replace_rules(self, source: str, generation: str, rules: Sequence[Document]) -> None:
        """Swap one source's mined rules for new ones (old ones removed once the new are in)."""
        for start in range(0, len(rules), 1000):  # ids name the generation: fresh
            await insert_fresh(self._rules, list(rules[start : start + 1000]))
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


def _without_id(document: Document) -> Document:
    return {key: value for key, value in document.items() if key != "_id"}
