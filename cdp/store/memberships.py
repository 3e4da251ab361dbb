"""The ``memberships`` collection: one document per person in a segment, with when they
entered. ``_id`` is ``<segment>|<person>``, so entering twice is one membership however
many writers try. ``recorded`` turns true once the entry is on the timeline: a writer cut
short between the two leaves it false, and the next refresh of that person finishes it.
``entry`` is the id of that timeline entry, so a read of the person can join it
(:meth:`cdp.store.profile_reads.ProfileReads.holdings_with_facts`); memberships stored
before it was kept have none, and their entry is read by the id it is worked out to."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from pymongo import DeleteOne, InsertOne
from pymongo.asynchronous.database import AsyncDatabase

from cdp.segments.changes import ENTERED, entry_id
from cdp.store.database import Document, chunked, find_in, insert_unless_present
from cdp.store.ordered import Write


def membership_id(segment_id: str, person_id: str) -> str:
    return f"{segment_id}|{person_id}"


@dataclass(frozen=True, slots=True)
class Held:
    entered_at: datetime
    recorded: bool
    entry: str | None = None  # its timeline entry's id, as stored (None: stored without)


class MembershipStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._collection = db["memberships"]

    async def of_persons(self, person_ids: Iterable[str]) -> dict[str, dict[str, Held]]:
        """For each person, the segments they are in, since when, and whether recorded."""
        held: dict[str, dict[str, Held]] = {}
        async for doc in find_in(self._collection, "person_id", person_ids):
            held.setdefault(doc["person_id"], {})[doc["segment_id"]] = held_of(doc)
        return held

    async def of_segment(self, segment_id: str) -> dict[str, Held]:
        cursor = self._collection.find({"segment_id": segment_id})
        return {doc["person_id"]: held_of(doc) async for doc in cursor}

    async def enter(self, pairs: Iterable[tuple[str, str]], at: datetime) -> list[tuple[str, str]]:
        """Add (segment, person) memberships; returns those this call added.

        Each is stored ``recorded``: its timeline entry is written next, and a refresh
        that finds an entry missing (a write cut short between the two) writes it again
        (:func:`cdp.segments.record.missing_entries`). Memberships stored unrecorded by
        earlier versions are still recorded and flagged as before.

        One found stored at ``at`` itself counts as added: it is this call's own, stored
        by a write the database applied, then forgot when it restarted before answering,
        and PyMongo sent again (or another writer's of the same millisecond, whose entry
        is the same document, stored once)."""
        wanted = list(pairs)
        taken = await insert_unless_present(self._collection, _entered(wanted, at))
        if taken:
            async for doc in find_in(self._collection, "_id", taken, {"entered_at": 1}):
                if doc["entered_at"] == at:
                    taken.discard(doc["_id"])
        return [(s, p) for s, p in wanted if membership_id(s, p) not in taken]

    def enter_writes(self, pairs: Iterable[tuple[str, str]], at: datetime) -> list[Write]:
        """:meth:`enter` as writes to run with others (:mod:`cdp.store.ordered`): a
        membership already held is a duplicate key there."""
        namespace = self._collection.full_name
        return [InsertOne(document, namespace=namespace) for document in _entered(pairs, at)]

    async def mark_recorded(self, pairs: Iterable[tuple[str, str]]) -> None:
        for chunk in chunked(membership_id(s, p) for s, p in pairs):
            await self._collection.update_many(
                {"_id": {"$in": chunk}}, {"$set": {"recorded": True}}
            )

    async def leave(self, pairs: Iterable[tuple[str, str]]) -> None:
        for chunk in chunked(membership_id(s, p) for s, p in pairs):
            await self._collection.delete_many({"_id": {"$in": chunk}})

    def leave_writes(self, pairs: Iterable[tuple[str, str]]) -> list[Write]:
        """:meth:`leave` as writes to run with others (:mod:`cdp.store.ordered`)."""
        namespace = self._collection.full_name
        return [DeleteOne({"_id": membership_id(s, p)}, namespace=namespace) for s, p in pairs]

    async def count(self, segment_id: str) -> int:
        return await self._collection.count_documents({"segment_id": segment_id})

    async def counts(self, segment_ids: Iterable[str]) -> dict[str, int]:
        """Members of each segment, counted in one aggregation on the segment index."""
        wanted = sorted(set(segment_ids))
        if not wanted:
            return {}
        pipeline: list[Document] = [
            {"$match": {"segment_id": {"$in": wanted}}},
            {"$group": {"_id": "$segment_id", "members": {"$sum": 1}}},
        ]
        rows = await (await self._collection.aggregate(pipeline)).to_list()
        found = {row["_id"]: int(row["members"]) for row in rows}
        return {segment: found.get(segment, 0) for segment in wanted}

    async def page(self, segment_id: str, first: int, after: str | None) -> list[Document]:
        """Members by person id, ``first + 1`` of them after the ``after`` person."""
        match: Document = {"segment_id": segment_id}
        if after is not None:
            match["person_id"] = {"$gt": after}
        cursor = self._collection.find(match).sort("person_id", 1).limit(first + 1)
        return await cursor.to_list()

    async def delete_of_persons(self, person_ids: Iterable[str]) -> None:
        for chunk in chunked(person_ids):
            await self._collection.delete_many({"person_id": {"$in": chunk}})

    async def delete_segment(self, segment_id: str) -> None:
        await self._collection.delete_many({"segment_id": segment_id})


def _entered(pairs: Iterable[tuple[str, str]], at: datetime) -> list[Document]:
    return [
        {
            "_id": membership_id(s, p),
            "segment_id": s,
            "person_id": p,
            "entered_at": at,
            "recorded": True,
            "entry": entry_id(ENTERED, s, p, at),
        }
        for s, p in pairs
    ]


def held_by_segment(docs: Iterable[Document]) -> dict[str, Held]:
    """One person's membership documents as the segments they hold."""
    return {doc["segment_id"]: held_of(doc) for doc in docs}


def held_of(doc: Document) -> Held:
    """A membership document as the segment it holds: since when, whether recorded, and
    the id of its entry."""
    entry = doc.get("entry")
    return Held(
        doc["entered_at"], bool(doc.get("recorded")), entry if isinstance(entry, str) else None
    )
