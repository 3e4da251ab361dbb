"""The ``links`` collection: edges of the identity graph and the event that proved each.

One document per pair of identifiers, keeping the first event that carried both: the
answer to "why are these linked?". Later sightings of a known pair write nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from pymongo import UpdateOne
from pymongo.asynchronous.database import AsyncDatabase

from cdp.store.database import Document, chunked, find_in, insert_unless_present
from cdp.store.ordered import Write


@dataclass(frozen=True, slots=True)
class LinkProof:
    """Identifiers ``a`` and ``b`` were carried together by event ``event_id``."""

    a: str
    b: str
    event_id: str | None
    source: str
    at: datetime


def _first_proofs(proofs: Iterable[LinkProof]) -> list[Document]:
    """One document per pair (its ends in order), the first proof of it given."""
    first: dict[str, Document] = {}
    for proof in proofs:
        a, b = sorted((proof.a, proof.b))
        first.setdefault(
            f"{a}|{b}",
            {
                "_id": f"{a}|{b}",
                "a": a,
                "b": b,
                "event_id": proof.event_id,
                "source": proof.source,
                "at": proof.at,
            },
        )
    return list(first.values())


class LinkStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._collection = db["links"]

    async def record(self, proofs: Iterable[LinkProof]) -> None:
        """Keep the first proof of each pair; pairs already linked are not written again."""
        # A pair linked before is a duplicate key: the insert leaves its first proof.
        await insert_unless_present(self._collection, _first_proofs(proofs))

    def record_writes(self, proofs: Iterable[LinkProof]) -> list[Write]:
        """:meth:`record` as writes to run with others (:mod:`cdp.store.ordered`): each an
        upsert that inserts the pair's proof unless the pair is there, so a known pair
        (a returning customer's event proves its links again) changes nothing and stops
        nothing after it, where an insert's duplicate key would end an ordered run."""
        return [
            UpdateOne(
                {"_id": doc["_id"]},
                {"$setOnInsert": doc},
                upsert=True,
                namespace=self._collection.full_name,
            )
            for doc in _first_proofs(proofs)
        ]

    async def between(self, keys: Iterable[str]) -> list[Document]:
        """Links whose both ends are among ``keys`` (one person's graph), oldest first."""
        wanted = set(keys)
        found: dict[str, Document] = {}
        async for doc in find_in(self._collection, "a", wanted):
            if doc["b"] in wanted:
                found[doc["_id"]] = doc
        return sorted(found.values(), key=lambda doc: (doc["at"], doc["_id"]))

    async def remove_touching(self, key: str) -> None:
        await self.remove_touching_any([key])

    async def remove_touching_any(self, keys: Iterable[str]) -> None:
        """Links with either end among ``keys`` (two indexed deletes; an ``$or`` makes the
        embedded server scan the collection)."""
        for chunk in chunked(keys):
            for end in ("a", "b"):
                await self._collection.delete_many({end: {"$in": chunk}})
