"""The ``links`` collection: edges of the identity graph and the event that proved each.

One document per pair of identifiers, keeping the first event that carried both: the
answer to "why are these linked?". Later sightings of a known pair write nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from pymongo.asynchronous.database import AsyncDatabase

from cdp.store.database import Document, chunked, insert_unless_present


@dataclass(frozen=True, slots=True)
class LinkProof:
    """Identifiers ``a`` and ``b`` were carried together by event ``event_id``."""

    a: str
    b: str
    event_id: str
    source: str
    at: datetime


class LinkStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._collection = db["links"]

    async def record(self, proofs: Iterable[LinkProof]) -> None:
        """Keep the first proof of each pair; pairs already linked are not written again."""
        first_proofs: dict[str, Document] = {}
        for proof in proofs:
            a, b = sorted((proof.a, proof.b))
            first_proofs.setdefault(
                f"{a}|{b}",
                {
                    "a": a,
                    "b": b,
                    "event_id": proof.event_id,
                    "source": proof.source,
                    "at": proof.at,
                },
            )
        known: set[str] = set()
        for chunk in chunked(first_proofs):
            known.update(
                [
                    doc["_id"]
                    async for doc in self._collection.find({"_id": {"$in": chunk}}, {"_id": 1})
                ]
            )
        new = [{"_id": pair, **doc} for pair, doc in first_proofs.items() if pair not in known]
        await insert_unless_present(self._collection, new)  # a racing writer may be first

    async def touching(self, keys: Iterable[str]) -> list[Document]:
        wanted = list(keys)
        cursor = self._collection.find({"$or": [{"a": {"$in": wanted}}, {"b": {"$in": wanted}}]})
        return await cursor.to_list()
