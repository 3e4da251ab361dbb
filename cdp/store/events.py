"""The ``events`` collection: ``_id`` is the message id, which makes ingestion idempotent."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from operator import itemgetter
from typing import Any

import bson
from pymongo import DeleteOne, InsertOne, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from cdp.profile.timeline import Position, TimelineQuery
from cdp.store.database import (
    WHOLE_ANSWER,
    Document,
    chunked,
    find_in,
    insert_fresh,
    insert_unless_present,
    repoint,
)
from cdp.store.ordered import Write

METRIC_FIELDS = ("person_id", "type", "channel", "timestamp", "properties")  # metrics read
# what a refresh reads of each event: what the metrics read, and the identifiers it
# carried, whose spans the profile keeps (cdp.profile.sightings)
HISTORY_FIELDS = (*METRIC_FIELDS, "identifiers")


def new_landing() -> str:
    """A landing's id: random, so concurrent calls never share one."""
    return uuid.uuid4().hex


def _landing(landing: str, message_ids: Sequence[str], now: datetime) -> Document:
    return {"_id": landing, "events": list(message_ids), "received_at": now}


def oldest_events_first(docs: list[Document]) -> list[Document]:
    """A history in the order the metrics read it (the id breaks a tie in time)."""
    return sorted(docs, key=itemgetter("timestamp", "_id"))


@dataclass(frozen=True, slots=True)
class Scrubbed:
    """An event whose properties mention erased text, and its properties without it."""

    event_id: str
    person_id: str
    properties: Any


class EventStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._collection = db["events"]
        self._landings = db["landings"]  # batches whose follow-up writes are not done

    async def existing(
        self, message_ids: Iterable[str], landing: str | None = None
    ) -> tuple[dict[str, str], set[str]]:
        """Map the ids already stored to the person their event was stored on, and say
        which of them are still *unfinished*: stored by a call that did not get to write
        what follows the event (traits, links, conflicts, the refresh mark). The asking
        call's own ``landing``, opened at the same moment, does not count."""
        found: dict[str, str] = {}
        async for doc in find_in(self._collection, "_id", message_ids, {"person_id": 1}):
            found[doc["_id"]] = doc["person_id"]
        return found, await self.cut_short(found, landing)

    async def cut_short(self, found: Iterable[str], landing: str | None = None) -> set[str]:
        """Which of these stored events are *unfinished* (:meth:`existing`), the asking
        call's own ``landing`` not counting; no read when there are none."""
        wanted = list(found)
        unfinished: set[str] = set()
        if wanted:  # a retry, or a batch sent twice: are their landings still open?
            async for open_ in self._landings.find({"events": {"$in": wanted}}):
                if open_["_id"] != landing:
                    unfinished.update(open_["events"])
        return unfinished & set(wanted)

    async def with_history(
        self, person_ids: Iterable[str], events: int, ignoring: Iterable[str] = ()
    ) -> set[str]:
        """Which of these persons have at least ``events`` events (not counting those of
        the ``ignoring`` types), in one read.

        One aggregation for them all rather than a capped count each: a batch asks about
        fifty persons, and fifty round trips cost more than counting their events on the
        person index (it reads their histories, which the refresh reads anyway). Ignored
        types are left out of the sum, not the match: a filter on ``type`` beside
        ``person_id`` could lead the embedded server's planner off the person index."""
        wanted = sorted(set(person_ids))
        if not wanted:
            return set()
        skipped = sorted(set(ignoring))
        counted = {"$cond": [{"$in": ["$type", skipped]}, 0, 1]} if skipped else 1
        pipeline: list[Document] = [
            {"$match": {"person_id": {"$in": wanted}}},
            {"$group": {"_id": "$person_id", "events": {"$sum": counted}}},
            {"$match": {"events": {"$gte": events}}},
        ]
        return {row["_id"] for row in await (await self._collection.aggregate(pipeline)).to_list()}

    async def delete_of_types(self, person_ids: Iterable[str], types: Iterable[str]) -> None:
        """Delete these persons' events of these types. Read by person first: no index
        holds both person and type, and the embedded server scans without one."""
        wanted = set(types)
        doomed = [
            doc["_id"]
            async for doc in find_in(self._collection, "person_id", person_ids, {"type": 1})
            if doc["type"] in wanted
        ]
        for chunk in chunked(doomed):
            await self._collection.delete_many({"_id": {"$in": chunk}})

    async def open_landing(self, landing: str, message_ids: Sequence[str], now: datetime) -> None:
        """Note, before these events are stored, that what follows them (traits, links,
        conflicts, the refresh mark) is not written yet; :meth:`finish` closes the note.
        ``landing`` is a new id (:func:`new_landing`).

        One small document per batch rather than a flag on each event: closing it is one
        delete, where taking a flag off 500 events rewrote 500 documents."""
        await insert_fresh(self._landings, [_landing(landing, message_ids, now)])

    def open_landing_writes(
        self, landing: str, message_ids: Sequence[str], now: datetime
    ) -> list[Write]:
        """:meth:`open_landing` as a write to run before the events' own, in one command
        (:mod:`cdp.store.ordered`)."""
        document = _landing(landing, message_ids, now)
        return [InsertOne(document, namespace=self._landings.full_name)]

    def finish_writes(self, landing: str) -> list[Write]:
        """:meth:`finish` of one landing as a write, to run last with the writes that
        follow its events (:mod:`cdp.store.ordered`)."""
        return [DeleteOne({"_id": landing}, namespace=self._landings.full_name)]

    async def finish(self, landings: Iterable[str]) -> None:
        """Everything that follows these landings' events is written: close them."""
        closed = sorted(set(landings))
        if closed:
            await self._landings.delete_many({"_id": {"$in": closed}})

    async def unfinished(
        self, received_before: datetime, limit: int
    ) -> tuple[list[Document], list[str]]:
        """Events of landings still open that were opened before ``received_before``
        (their call died, and no client sent them again), oldest first, with those
        landings (at least one, however many events it has)."""
        cursor = self._landings.find({}).sort("received_at", 1)  # a handful at most
        landings: list[str] = []
        wanted: list[str] = []
        async for landing in cursor:
            if landing["received_at"] >= received_before or (landings and len(wanted) >= limit):
                break
            landings.append(landing["_id"])
            wanted += landing["events"]
        await cursor.close()
        found = [doc async for doc in find_in(self._collection, "_id", wanted)]
        return sorted(found, key=lambda doc: (doc["received_at"], doc["_id"])), landings

    async def insert(self, documents: Sequence[Document]) -> set[str]:
        """Insert events; returns the ids that another writer stored first (duplicates)."""
        return await insert_unless_present(self._collection, list(documents))

    def as_read(self, document: Document) -> Document:
        """An event document about to be stored, as a history read would return it: the
        history's fields, through BSON and back with this collection's options
        (datetimes to the millisecond, in UTC), so metrics computed with it equal those
        computed from the stored event."""
        codec = self._collection.codec_options
        stored = bson.decode(bson.encode(document, codec_options=codec), codec_options=codec)
        return {name: stored[name] for name in ("_id", *HISTORY_FIELDS) if name in stored}

    def insert_writes(self, documents: Sequence[Document]) -> list[Write]:
        """:meth:`insert` as writes to run with others (:mod:`cdp.store.ordered`)."""
        return [InsertOne(document, namespace=self._collection.full_name) for document in documents]

    async def identifier_groups(self, person_id: str) -> list[tuple[str, list[str]]]:
        """For each event of a person, its id and the identifier keys it carried."""
        cursor = self._collection.find({"person_id": person_id}, {"identifiers": 1})
        return [
            (doc["_id"], [f"{i['type']}:{i['value']}" for i in doc["identifiers"]])
            async for doc in cursor
        ]

    async def trait_sets(
        self, person_ids: Iterable[str]
    ) -> dict[str, list[tuple[datetime, str, dict[str, Any]]]]:
        """For each person, ``(time, event id, traits)`` of every event that set traits."""
        found: dict[str, list[tuple[datetime, str, dict[str, Any]]]] = {}
        projection = {"person_id": 1, "timestamp": 1, "traits": 1}
        async for doc in find_in(self._collection, "person_id", person_ids, projection):
            if doc.get("traits"):
                found.setdefault(doc["person_id"], []).append(
                    (doc["timestamp"], doc["_id"], doc["traits"])
                )
        return found

    async def assign(self, event_ids: Iterable[str], person_id: str) -> None:
        for chunk in chunked(event_ids):
            await self._collection.update_many(
                {"_id": {"$in": chunk}}, {"$set": {"person_id": person_id}}
            )

    async def by_ids(self, event_ids: Iterable[str]) -> dict[str, Document]:
        return {doc["_id"]: doc async for doc in find_in(self._collection, "_id", set(event_ids))}

    async def of_persons(self, person_ids: Sequence[str]) -> list[Document]:
        """Every event of these persons, oldest first (for a data export)."""
        cursor = self._collection.find(
            {"person_id": {"$in": list(person_ids)}}, batch_size=WHOLE_ANSWER
        )
        return await cursor.sort([("timestamp", 1), ("_id", 1)]).to_list()

    async def histories(
        self, person_ids: Iterable[str], *, with_identifiers: bool = False
    ) -> dict[str, list[Document]]:
        """What the metrics read of every event of these persons, by person, oldest first;
        with the identifiers each carried when asked (a refresh's: cdp.profile.sightings;
        the bulk recompute and the offers read 316,000 events without them)."""
        projection = dict.fromkeys(HISTORY_FIELDS if with_identifiers else METRIC_FIELDS, 1)
        found: dict[str, list[Document]] = {}
        async for doc in find_in(self._collection, "person_id", person_ids, projection):
            found.setdefault(doc["person_id"], []).append(doc)
        return {person: oldest_events_first(docs) for person, docs in found.items()}

    async def after(
        self, person_id: str, since: datetime, event_ids: Sequence[str] = ()
    ) -> list[Document]:
        """What the metrics read of one person's events from ``since`` on, and of the
        events ``event_ids`` wherever they are (a fold's new events and the timeline
        entries a refresh checks, cdp.profile.carried), oldest first.

        The person by equality and the time as a range: the embedded server walks the
        ``(person_id, timestamp)`` index from ``since`` then (0.6 ms for 10 of 5,000
        events); with the person in an ``$in`` it reads every event of the person (14 to
        18 ms), and a ``$lookup`` sub-pipeline reads the collection (55 ms). The ids are
        a read of their own beside it: in a ``$unionWith`` the server reads the whole
        collection for them (64 ms against 1.5 ms)."""
        projection = {"_id": 1, **dict.fromkeys(HISTORY_FIELDS, 1)}
        pipeline: list[Document] = [
            {"$match": {"person_id": person_id, "timestamp": {"$gte": since}}},
            {"$project": projection},
        ]

        async def by_id() -> list[Document]:
            return [doc async for doc in find_in(self._collection, "_id", event_ids, projection)]

        recent, named = await asyncio.gather(_aggregated(self._collection, pipeline), by_id())
        found = {doc["_id"]: doc for doc in [*recent, *named]}
        return oldest_events_first(list(found.values()))

    async def baskets(self) -> list[list[str]]:
        """The skus of every purchase's items, one list per purchase (the mining input).

        Items are projected whole and their skus read here: the embedded server does not
        resolve ``$properties.items.sku`` through the array.
        """
        pipeline: list[Document] = [
            {"$match": {"type": "purchase"}},  # the (type, timestamp) index alone...
            {"$match": {"properties.items.sku": {"$exists": True}}},  # ...then the rest
            {"$project": {"_id": 0, "items": "$properties.items"}},
        ]
        rows = await (await self._collection.aggregate(pipeline)).to_list()
        return [
            [
                i["sku"]
                for i in row["items"]
                if isinstance(i, dict) and isinstance(i.get("sku"), str)
            ]
            for row in rows
            if isinstance(row.get("items"), list)
        ]

    async def view_sets(self) -> list[list[str]]:
        """For each person, the skus they viewed (the input of view similarity)."""
        pipeline: list[Document] = [
            {"$match": {"type": "product_view"}},
            {"$match": {"properties.sku": {"$type": "string"}}},
            {"$group": {"_id": "$person_id", "skus": {"$addToSet": "$properties.sku"}}},
        ]
        rows = await (await self._collection.aggregate(pipeline)).to_list()
        return [list(row["skus"]) for row in rows]

    async def delete_of(self, person_ids: Iterable[str]) -> None:
        for chunk in chunked(person_ids):
            await self._collection.delete_many({"person_id": {"$in": chunk}})

    async def scrub_identifiers(self, identifiers: list[Document]) -> None:
        """Remove these identifiers from events of other persons that carried them too."""
        for chunk in chunked(identifiers):
            await self._collection.update_many(
                {"identifiers": {"$in": chunk}}, {"$pull": {"identifiers": {"$in": chunk}}}
            )

    async def mentioning(self, values: Sequence[str], replacement: str) -> list[Scrubbed]:
        """Every event whose properties mention one of these values (emails without
        case) in their text, with its properties as they read once the values are
        replaced (:meth:`rewrite` writes them). Reads every event's properties: a mention
        in free text has no index (an erasure is rare; its cost is documented). Apart
        from the write so that what is derived from those events (a fold) can be
        dropped first: an erasure cut short and asked again finds the mentions again."""
        if not values:
            return []
        pattern = re.compile("|".join(re.escape(v) for v in values), re.IGNORECASE)
        found: list[Scrubbed] = []
        async for doc in self._collection.find({}, {"properties": 1, "person_id": 1}):
            properties = doc.get("properties")
            if properties and pattern.search(str(properties)):
                scrubbed = _replaced(properties, pattern, replacement)
                found.append(Scrubbed(doc["_id"], doc["person_id"], scrubbed))
        return found

    async def rewrite(self, scrubbed: Sequence[Scrubbed]) -> None:
        """Store the properties :meth:`mentioning` found, 500 events a command."""
        for chunk in chunked(scrubbed, 500):
            writes = [
                UpdateOne({"_id": each.event_id}, {"$set": {"properties": each.properties}})
                for each in chunk
            ]
            await self._collection.bulk_write(writes, ordered=False)

    async def purchase_days(self, before: datetime) -> list[tuple[str, str, float]]:
        """(person, day, spend) for every day a person bought something before ``before``.

        Runs next to the data: one row per purchase day, however many orders that day.
        """
        pipeline: list[Document] = [
            {"$match": {"type": "purchase", "timestamp": {"$lt": before}}},
            {
                "$group": {
                    "_id": {
                        "p": "$person_id",
                        "d": {"$dateToString": {"format": "%Y-%m-%d", "date": "$timestamp"}},
                    },
                    "spend": {"$sum": "$properties.total"},
                }
            },
        ]
        rows = await (await self._collection.aggregate(pipeline)).to_list()
        return [(row["_id"]["p"], row["_id"]["d"], float(row["spend"])) for row in rows]

    async def repoint_many(self, moves: Mapping[str, str], keep_types: Sequence[str] = ()) -> None:
        """Give every event of each merged person to the person it was merged into, but
        those of ``keep_types``."""
        await repoint(self._collection, moves, keep_types)

    async def page(self, person_ids: Sequence[str], query: TimelineQuery) -> list[Document]:
        """One page, newest first, plus one extra event when there is a next page.

        Each member of the family is read with its own query that an index covers whole
        (person and time), and channel, type and the cursor's tie are checked here: the
        embedded Rust server scans the whole collection for any filter beyond an index's
        fields (a second page, a channel filter, a merged family). The cost follows the
        person's history, never the collection.
        """
        wanted = query.first + 1
        streams = [self._matching(member, query, wanted) for member in person_ids]
        found: list[Document] = []
        for docs in await asyncio.gather(*streams):
            found += docs
        found.sort(key=lambda doc: (doc["timestamp"], doc["_id"]), reverse=True)
        return found[:wanted]

    async def count(self, person_ids: Sequence[str], query: TimelineQuery) -> int:
        """How many events match the filters, on all pages."""
        if not query.channels and not query.types and not query.exclude_types:
            window = _window(query)
            counts = [
                self._collection.count_documents(
                    {"person_id": member, **({"timestamp": window} if window else {})}
                )
                for member in person_ids
            ]
            return sum(await asyncio.gather(*counts))
        streams = [self._matching(member, query, None) for member in person_ids]
        return sum(len(docs) for docs in await asyncio.gather(*streams))

    async def _matching(
        self, person_id: str, query: TimelineQuery, limit: int | None
    ) -> list[Document]:
        """This person's events in the query's window, newest first, that pass its
        filters and lie after its cursor; at most ``limit``."""
        window = _window(query)
        if query.after is not None:
            window["$lte"] = min(query.after.timestamp, window.get("$lte", query.after.timestamp))
        match: Document = {"person_id": person_id}
        if window:
            match["timestamp"] = window
        channels = {channel.value for channel in query.channels}
        types, excluded = set(query.types), set(query.exclude_types)
        filtered = bool(channels or types or excluded or query.after)
        cursor = self._collection.find(match).sort([("timestamp", -1), ("_id", -1)])
        if limit is not None and not filtered:
            cursor = cursor.limit(limit)
        elif limit is not None:
            cursor = cursor.batch_size(max(limit * 2, 101))
        found: list[Document] = []
        async for doc in cursor:
            if channels and doc["channel"] not in channels:
                continue
            if types and doc["type"] not in types:
                continue
            if doc["type"] in excluded:
                continue
            if query.after is not None and not _before(doc, query.after):
                continue
            found.append(doc)
            if limit is not None and len(found) >= limit:
                break
        await cursor.close()
        return found


def _before(doc: Document, position: Position) -> bool:
    """Whether an event comes after ``position`` in newest-first order."""
    return (doc["timestamp"], doc["_id"]) < (position.timestamp, position.id)


def _window(query: TimelineQuery) -> Document:
    window: Document = {}
    if query.since:
        window["$gte"] = query.since
    if query.until:
        window["$lte"] = query.until
    return window


def _replaced(value: Any, pattern: re.Pattern[str], replacement: str) -> Any:
    if isinstance(value, str):
        return pattern.sub(replacement, value)
    if isinstance(value, dict):
        return {k: _replaced(v, pattern, replacement) for k, v in value.items()}
    if isinstance(value, list):
        return [_replaced(v, pattern, replacement) for v in value]
    return value


async def _aggregated(
    collection: AsyncCollection[Document], pipeline: list[Document]
) -> list[Document]:
    return await (await collection.aggregate(pipeline)).to_list()
