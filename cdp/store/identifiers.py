"""The ``identifiers`` collection: ``_id`` is the normalised key, so one identifier has one owner.

The unique ``_id`` is what makes concurrent stitching safe: two events racing to create a
person for the same identifier cannot both win the insert.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from pymongo import UpdateOne
from pymongo.asynchronous.database import AsyncDatabase

from cdp.store.database import (
    WHOLE_ANSWER,
    Document,
    chunked,
    find_in,
    insert_unless_present,
    lookup,
    read_in_chunks,
    repoint,
    update_each,
)
from cdp.store.ordered import Write
from identity import Identifier


@dataclass(frozen=True, slots=True)
class Owned:
    """An identifier as stored: its owner and the span it was seen in."""

    person_id: str
    first_seen: datetime
    last_seen: datetime


@dataclass(frozen=True, slots=True)
class Sighting:
    """An identifier and the first and last time the batch saw it."""

    identifier: Identifier
    first_seen: datetime
    last_seen: datetime


@dataclass(frozen=True, slots=True)
class Holdings:
    """Owned keys and their owners as stitching needs them (:meth:`IdentifierStore.holdings`)."""

    owned: dict[str, Owned]
    merged: set[str]  # owners merged into someone else: their roots are still to find
    counts: dict[str, dict[str, int]]  # per owner, identifiers held of each type


class IdentifierStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._collection = db["identifiers"]

    async def owners(self, keys: Iterable[str]) -> dict[str, Owned]:
        """What is stored for each owned key (the person may be a merged one)."""
        owned: dict[str, Owned] = {}
        projection = {"person_id": 1, "first_seen": 1, "last_seen": 1}
        async for doc in find_in(self._collection, "_id", keys, projection):
            owned[doc["_id"]] = Owned(doc["person_id"], doc["first_seen"], doc["last_seen"])
        return owned

    async def holdings(self, keys: Iterable[str]) -> Holdings:
        """What stitching plans with, in one command for each ``READ_CHUNK`` keys: each
        owned key's owner, which of the owners are merged away, and how many identifiers
        of each type every owner holds (a ``$lookup`` of the owner and of its
        identifiers, both by index)."""

        async def read(chunk: list[str]) -> list[Document]:
            stages = [*holdings_stages(chunk), {"$project": HOLDINGS_PROJECTION}]
            rows = await self._collection.aggregate(stages, batchSize=WHOLE_ANSWER)
            return await rows.to_list()

        return holdings_of(await read_in_chunks(keys, read))

    async def claim(self, sightings: Mapping[str, Sighting], claims: Mapping[str, str]) -> set[str]:
        """Claim unowned keys for their planned person; return those someone else took
        first (the caller re-plans their events).

        Claims are plain inserts: the unique ``_id`` lets only one writer win.
        """
        return await insert_unless_present(
            self._collection,
            [
                {
                    "_id": key,
                    "person_id": person_id,
                    "type": sightings[key].identifier.type,
                    "value": sightings[key].identifier.value,
                    "first_seen": sightings[key].first_seen,
                    "last_seen": sightings[key].last_seen,
                }
                for key, person_id in claims.items()
            ],
        )

    def widen_writes(
        self, sightings: Mapping[str, Sighting], known: Mapping[str, Owned]
    ) -> list[Write]:
        """Widen first/last seen of a single event's known keys it saw earlier or later
        than stored (only those are written), as writes to run with the event's
        (:mod:`cdp.store.ordered`). Each bound moves only outwards (``$min``, ``$max``),
        so concurrent writers need no lock for it. A bulk batch writes none: its refresh
        keeps the spans on the profile (:mod:`cdp.profile.sightings`)."""
        earlier, later = _widened(sightings, known)
        return [
            UpdateOne({"_id": key}, {f"${keep}": bound}, namespace=self._collection.full_name)
            for keep, bounds in (("min", earlier), ("max", later))
            for key, bound in bounds.items()
        ]

    async def of_persons(self, person_ids: Iterable[str]) -> list[Document]:
        found = [doc async for doc in find_in(self._collection, "person_id", person_ids)]
        return sorted(found, key=lambda doc: str(doc["_id"]))

    async def counts(self, person_ids: Iterable[str]) -> dict[str, dict[str, int]]:
        """How many identifiers of each type every person holds (for the limits)."""

        async def read(chunk: list[str]) -> list[Document]:
            pipeline: list[Document] = [
                {"$match": {"person_id": {"$in": chunk}}},
                {"$group": {"_id": {"p": "$person_id", "t": "$type"}, "n": {"$sum": 1}}},
            ]
            rows = await self._collection.aggregate(pipeline, batchSize=WHOLE_ANSWER)
            return await rows.to_list()

        held: dict[str, dict[str, int]] = {}
        for row in await read_in_chunks(person_ids, read):
            held.setdefault(row["_id"]["p"], {})[row["_id"]["t"]] = row["n"]
        return held

    async def move(self, moves: Mapping[str, str]) -> None:
        """Give each key to a new owner (weak identifiers following their last user)."""
        if moves:
            await update_each(self._collection, {k: {"person_id": p} for k, p in moves.items()})

    async def remove(self, key: str) -> None:
        await self._collection.delete_one({"_id": key})

    async def assign(self, keys: Iterable[str], person_id: str) -> None:
        for chunk in chunked(keys):
            await self._collection.update_many(
                {"_id": {"$in": chunk}}, {"$set": {"person_id": person_id}}
            )

    async def delete_of(self, person_ids: Iterable[str]) -> None:
        for chunk in chunked(person_ids):
            await self._collection.delete_many({"person_id": {"$in": chunk}})

    async def holders(self, person_ids: Iterable[str]) -> set[str]:
        """The person ids among ``person_ids`` that own at least one identifier."""

        async def read(chunk: list[str]) -> list[str]:
            return await self._collection.distinct("person_id", {"person_id": {"$in": chunk}})

        return set(await read_in_chunks(person_ids, read))

    async def repoint_many(self, moves: Mapping[str, str]) -> None:
        await repoint(self._collection, moves)


def _widened(
    sightings: Mapping[str, Sighting], known: Mapping[str, Owned]
) -> tuple[dict[str, Document], dict[str, Document]]:
    """The known keys this batch saw earlier than their first seen, and later than their
    last seen, with the new bound of each."""
    earlier = {
        key: {"first_seen": seen.first_seen}
        for key, seen in sightings.items()
        if key in known and seen.first_seen < known[key].first_seen
    }
    later = {
        key: {"last_seen": seen.last_seen}
        for key, seen in sightings.items()
        if key in known and seen.last_seen > known[key].last_seen
    }
    return earlier, later


# What :meth:`IdentifierStore.holdings` reads of each owned key, by the stages below.
HOLDINGS_PROJECTION: Document = {
    "person_id": 1,
    "first_seen": 1,
    "last_seen": 1,
    "owner.merged_into": 1,
    "held.type": 1,
}


def holdings_stages(keys: list[str]) -> list[Document]:
    """The stages on ``identifiers`` that find each owned key's owner and what it holds
    (a ``$project`` follows them: :data:`HOLDINGS_PROJECTION`, or more)."""
    return [{"$match": {"_id": {"$in": keys}}}, *holdings_joins()]


def holdings_joins() -> list[Document]:
    """What :func:`holdings_stages` joins to each owned key: its owner and what it holds."""
    return [
        lookup("persons", "person_id", "_id", "owner"),
        lookup("identifiers", "person_id", "person_id", "held"),
    ]


def holdings_of(rows: Iterable[Document]) -> Holdings:
    """:class:`Holdings` from the rows of :func:`holdings_stages`."""
    owned: dict[str, Owned] = {}
    merged: set[str] = set()
    counts: dict[str, dict[str, int]] = {}
    for row in rows:
        person = row["person_id"]
        owned[row["_id"]] = Owned(person, row["first_seen"], row["last_seen"])
        if any(owner.get("merged_into") for owner in row["owner"]):
            merged.add(person)
        counts[person] = dict(Counter(held["type"] for held in row["held"]))
    return Holdings(owned, merged, counts)
