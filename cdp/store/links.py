"""The ``links`` collection: edges of the identity graph and the event that proved each.

One document per pair of identifiers, keeping the first event that carried both (the
answer to "why are these linked?") and how often the pair was seen since.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from pymongo import UpdateOne
from pymongo.asynchronous.database import AsyncDatabase

from cdp.store.database import Document


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
        operations = []
        for proof in proofs:
            a, b = sorted((proof.a, proof.b))
            operations.append(
                UpdateOne(
                    {"_id": f"{a}|{b}"},
                    {
                        "$setOnInsert": {
                            "a": a,
                            "b": b,
                            "event_id": proof.event_id,
                            "source": proof.source,
                            "at": proof.at,
                        },
                        "$inc": {"seen": 1},
                        "$max": {"last_at": proof.at},
                    },
                    upsert=True,
                )
            )
        if operations:
            await self._collection.bulk_write(operations, ordered=False)

    async def touching(self, keys: Iterable[str]) -> list[Document]:
        wanted = list(keys)
        cursor = self._collection.find({"$or": [{"a": {"$in": wanted}}, {"b": {"$in": wanted}}]})
        return await cursor.to_list()
