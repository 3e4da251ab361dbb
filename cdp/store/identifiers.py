"""The ``identifiers`` collection: ``_id`` is the normalised key, so one identifier has one owner.

The unique ``_id`` is what makes concurrent stitching safe: two events racing to create a
person for the same identifier cannot both win the insert.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from pymongo import UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from cdp.store.database import Document
from identity import Identifier

DUPLICATE_KEY = 11000


@dataclass(frozen=True, slots=True)
class Sighting:
    """An identifier and the first and last time the batch saw it."""

    identifier: Identifier
    first_seen: datetime
    last_seen: datetime


class IdentifierStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._collection = db["identifiers"]

    async def owners(self, keys: Iterable[str]) -> dict[str, str]:
        """Map each owned key to the person id stored on it (possibly a merged one)."""
        cursor = self._collection.find({"_id": {"$in": list(keys)}}, {"person_id": 1})
        return {doc["_id"]: doc["person_id"] async for doc in cursor}

    async def record(
        self, sightings: Mapping[str, Sighting], claims: Mapping[str, str]
    ) -> set[str]:
        """Claim unowned keys for their planned person and stamp first and last seen.

        Returns the claimed keys that someone else took first: the caller re-plans the
        events that carry them.
        """
        operations: list[UpdateOne] = []
        claimed_at: dict[int, str] = {}
        for key, sighting in sightings.items():
            update: Document = {
                "$min": {"first_seen": sighting.first_seen},
                "$max": {"last_seen": sighting.last_seen},
            }
            if key in claims:
                update["$setOnInsert"] = {
                    "person_id": claims[key],
                    "type": sighting.identifier.type,
                    "value": sighting.identifier.value,
                }
                claimed_at[len(operations)] = key
            operations.append(UpdateOne({"_id": key}, update, upsert=key in claims))
        if not operations:
            return set()
        try:
            result = await self._collection.bulk_write(operations, ordered=False)
            inserted = set(result.upserted_ids or {})
        except BulkWriteError as error:
            if any(e["code"] != DUPLICATE_KEY for e in error.details["writeErrors"]):
                raise
            inserted = {entry["index"] for entry in error.details.get("upserted", [])}
        return {key for index, key in claimed_at.items() if index not in inserted}

    async def of_persons(self, person_ids: Iterable[str]) -> list[Document]:
        cursor = self._collection.find({"person_id": {"$in": list(person_ids)}}).sort("_id", 1)
        return await cursor.to_list()

    async def holders(self, person_ids: Iterable[str]) -> set[str]:
        """The person ids among ``person_ids`` that own at least one identifier."""
        ids = await self._collection.distinct("person_id", {"person_id": {"$in": list(person_ids)}})
        return set(ids)

    async def repoint(self, from_person: str, to_person: str) -> None:
        await self._collection.update_many(
            {"person_id": from_person}, {"$set": {"person_id": to_person}}
        )
