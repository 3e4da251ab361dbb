"""What next-best-offer reads of the catalogue, kept in memory between requests.

Every answer needs products, mined rules, explicit offers and response counts, and each
read costs about a millisecond on the embedded server, several times what the ranking
itself costs. These change rarely, so one process keeps what it has read:

- a write through this process (products, rules, offers) bumps a local generation, so
  the next answer here reads afresh;
- a write anywhere also bumps the ``catalogue_versions`` document, which each process
  checks at most every ``check_seconds`` (default 1 s): another instance's change is
  seen within that time;
- response counts change with every response, so they are not versioned: each expires
  ``stats_seconds`` (default 30 s) after it was read, and a response recorded here drops
  the counts it changed. The estimates learn from many responses; half a minute's delay
  in seeing another instance's is harmless, a read per answer is not.

An answer that started under one generation never stores what it read into a newer
one, so a slow reader cannot put back what a writer just replaced. Each part holds at
most :data:`MAX_ENTRIES` keys, least recently used first out, except the mined rules,
which are held whole (see :meth:`CachedCatalogue.rules_from`).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable, MutableMapping
from typing import TypeVar

from cachetools import LRUCache, TTLCache
from pymongo.asynchronous.database import AsyncDatabase

from cdp.store.database import Document, find_in

K = TypeVar("K")
V = TypeVar("V")

MAX_ENTRIES = 50_000
VERSION_ID = "catalogue"


class CatalogueVersion:
    """The generation of the catalogue this process has seen: local writes and the
    shared counter document."""

    def __init__(
        self,
        db: AsyncDatabase[Document],
        check_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._versions = db["catalogue_versions"]
        self._check_seconds = check_seconds
        self._clock = clock
        self._local = 0
        self._shared: int | None = None
        self._checked_at = -float("inf")

    async def bump(self) -> None:
        """Call after a catalogue write has landed."""
        self._local += 1
        await self._versions.update_one({"_id": VERSION_ID}, {"$inc": {"n": 1}}, upsert=True)

    async def current(self) -> tuple[int, int | None]:
        if self._clock() - self._checked_at >= self._check_seconds:
            doc = await self._versions.find_one({"_id": VERSION_ID})
            self._shared = doc["n"] if doc else 0
            self._checked_at = self._clock()
        return self._local, self._shared


class CachedCatalogue:
    """Reads of products, rules, offers and response counts through the cache."""

    def __init__(
        self,
        db: AsyncDatabase[Document],
        version: CatalogueVersion,
        stats_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._products_collection = db["products"]
        self._rules_collection = db["offer_rules"]
        self._offers_collection = db["offers"]
        self._stats_collection = db["offer_stats"]
        self._version = version
        self._generation: tuple[int, int | None] | None = None
        self._products: LRUCache[str, Document | None] = LRUCache(MAX_ENTRIES)
        self._rules: dict[str, list[Document]] | None = None
        self._categories: LRUCache[tuple[str, int], list[Document]] = LRUCache(MAX_ENTRIES)
        self._offers: list[Document] | None = None
        self._stats: TTLCache[str, Document | None] = TTLCache(
            MAX_ENTRIES, ttl=stats_seconds, timer=clock
        )

    async def _sync(self) -> tuple[int, int | None]:
        generation = await self._version.current()
        if generation != self._generation:
            self._products.clear()
            self._rules = None
            self._categories.clear()
            self._offers = None
            self._generation = generation
        return generation

    async def products(self, skus: Iterable[str]) -> dict[str, Document]:
        """Products by sku (unknown skus left out)."""
        generation = await self._sync()
        known, missing = _split(self._products, skus)
        found: dict[str, Document | None] = dict.fromkeys(missing)
        async for doc in find_in(self._products_collection, "_id", missing):
            found[doc["_id"]] = doc
        if generation == self._generation:
            self._products.update(found)
        return {sku: doc for sku, doc in (known | found).items() if doc is not None}

    async def rules_from(self, skus: Iterable[str]) -> list[Document]:
        """Mined rules of both kinds whose left side holds one of these skus.

        The rules are a model built in bulk, bounded by the mining thresholds (thousands,
        not millions), so they are loaded whole, indexed by each item of their left side,
        once per catalogue version: a person's answer then never misses.
        """
        generation = await self._sync()
        by_item = self._rules
        if by_item is None:
            by_item = defaultdict(list)
            async for doc in self._rules_collection.find({}):
                for sku in doc["antecedent"]:
                    by_item[sku].append(doc)
            if generation == self._generation:
                self._rules = by_item
        rules = {doc["_id"]: doc for sku in set(skus) for doc in by_item.get(sku, [])}
        return [rules[key] for key in sorted(rules)]

    async def in_categories(self, categories: Iterable[str], per_category: int) -> list[Document]:
        """Up to ``per_category`` products of each category, best sellers first (baskets at
        the last mining, then sku), categories in the order asked."""
        generation = await self._sync()
        keys = [(category, per_category) for category in dict.fromkeys(categories)]
        known, missing = _split(self._categories, keys)
        found: dict[tuple[str, int], list[Document]] = {}
        for key in missing:
            cursor = self._products_collection.find({"category": key[0]})
            best_first = cursor.sort([("baskets", -1), ("_id", 1)])
            found[key] = await best_first.limit(per_category).to_list()
        if generation == self._generation:
            self._categories.update(found)
        every = known | found
        return [doc for key in keys for doc in every[key]]

    async def active_offers(self) -> list[Document]:
        """Explicit offers not archived, by id."""
        generation = await self._sync()
        if self._offers is not None:
            return self._offers
        cursor = self._offers_collection.find({"archived": {"$ne": True}}).sort("_id", 1)
        offers = await cursor.to_list()
        if generation == self._generation:
            self._offers = offers
        return offers

    async def stats(self, keys: Iterable[str]) -> dict[str, Document]:
        """Response counts by ``<offer>|<segment>`` key (keys never counted left out)."""
        known, missing = _split(self._stats, keys)
        found: dict[str, Document | None] = dict.fromkeys(missing)
        async for doc in find_in(self._stats_collection, "_id", missing):
            found[doc["_id"]] = doc
        self._stats.update(found)
        return {key: doc for key, doc in (known | found).items() if doc is not None}

    def forget_stats(self, keys: Iterable[str]) -> None:
        for key in keys:
            self._stats.pop(key, None)


def _split(cache: MutableMapping[K, V], keys: Iterable[K]) -> tuple[dict[K, V], list[K]]:
    """The entries the cache holds (each marked as just used) and the keys it lacks."""
    known: dict[K, V] = {}
    missing: list[K] = []
    for key in dict.fromkeys(keys):
        try:
            known[key] = cache[key]
        except KeyError:
            missing.append(key)
    return known, missing
