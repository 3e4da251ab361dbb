"""Reads that join what comes next: a profile screen's first read, and a refresh's.

A profile screen's first read: an identifier's owner and what the screen asks next.
Finding a person by an identifier and showing them took five reads one after another
or side by side (the identifier, the person, who was merged into them, their
identifiers, their segments), each a round trip and about 0.35 ms of the service's own
CPU in the driver. One aggregation with ``$lookup`` on indexed fields answers all five
(0.8 ms on the embedded server against 2 ms for four plain reads in a row). A
``$lookup`` with a sub-pipeline, or ``$or``, would make the embedded server scan a
collection; plain ``localField``/``foreignField`` joins use the indexes.

A refresh reads each person with who was merged into them, their consents, their
memberships and their history the same way: one command for what took five. The history
is joined after the person is read (a join reads the joined documents of a person once
it has that person), so it holds every event written before the pending mark the person
shows: the order a refresh's metrics rely on (:mod:`cdp.profile.refresh`).

A join probes an index once per document it joins from, where a plain ``$in`` read
walks the index once for the whole list: for a handful of documents the join saves
round trips, for hundreds it costs more (a refresh of 450 persons: 103 ms joined against
about 30 ms in four reads). Callers join up to ``JOIN_AT_MOST`` documents and read
separately above it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import OperationFailure

from cdp.store.consents import oldest_first
from cdp.store.database import Document, find_in, lookup
from cdp.store.events import HISTORY_FIELDS, oldest_events_first
from cdp.store.identifiers import (
    HOLDINGS_PROJECTION,
    Holdings,
    IdentifierStore,
    holdings_joins,
    holdings_of,
)
from cdp.store.memberships import Held, held_by_segment

# MongoDB's codes for a joined document over 16 MB ($lookup's own, and BSONObjectTooLarge)
JOINED_TOO_LARGE = frozenset({4568, 10334})
JOIN_AT_MOST = 20  # documents to join from; a single event's reads, not a bulk batch's


@dataclass(frozen=True, slots=True)
class OwnerRead:
    """The owner of the first key found, as stored, with its own identifiers and
    segments and the persons merged straight into it (one level)."""

    key: str
    person: Document | None  # None: the identifier names a person no longer stored
    absorbed: list[str]
    identifiers: list[Document]  # sorted by key
    memberships: dict[str, Held]


@dataclass(frozen=True, slots=True)
class PersonRead:
    """A person as stored (the fields asked for), with the persons merged straight into
    it (one level), its own consent decisions (oldest first), its memberships and its
    own events (what the metrics read of them, oldest first)."""

    person: Document
    absorbed: list[str]
    consents: list[Document]
    memberships: dict[str, Held]
    # None: not joined (a history too long to join, or one a stored fold stands for)
    events: list[Document] | None
    # the timeline entries of its memberships found by the ids they store, as the events
    # are read; None: not joined (cdp.profile.carried reads them with the new events)
    entries: list[Document] | None = None


@dataclass(frozen=True, slots=True)
class StitchingRead:
    """What a single event's first read found: the holdings of its keys, their owners
    with their facts, and which of its message ids are stored (the person of each)."""

    holdings: Holdings
    owners: dict[str, PersonRead]
    stored: dict[str, str]


class ProfileReads:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._db = db
        self._events = db["events"]
        self._identifiers = db["identifiers"]
        self._persons = db["persons"]
        self._owners = IdentifierStore(db)  # the holdings alone, when facts cannot join

    async def persons_with_facts(
        self, person_ids: Iterable[str], fields: Iterable[str]
    ) -> dict[str, PersonRead]:
        """Each stored person among ``person_ids``, with ``fields`` of its document and
        its facts, in one command (persons never stored are left out).

        A joined result is one document, which MongoDB caps at 16 MB: a history too long
        for that (tens of thousands of events) makes the server refuse the join, and the
        read is made again without the events, which the caller then reads apart."""
        wanted = sorted(set(person_ids))
        if not wanted:
            return {}
        try:
            return await self._with_facts(wanted, fields, with_events=True)
        except OperationFailure as error:
            if error.code not in JOINED_TOO_LARGE:
                raise
            return await self._with_facts(wanted, fields, with_events=False)

    async def _with_facts(
        self, wanted: list[str], fields: Iterable[str], *, with_events: bool
    ) -> dict[str, PersonRead]:
        pipeline: list[Document] = [
            {"$match": {"_id": {"$in": wanted}}},
            *_facts_of("_id", with_events=with_events),
            {"$project": {**dict.fromkeys(fields, 1), **_facts_projection(with_events)}},
        ]
        read: dict[str, PersonRead] = {}
        async for row in await self._persons.aggregate(pipeline):
            read[row["_id"]] = _person_read(row, row, with_events=with_events)
        return read

    async def holdings_with_facts(
        self, keys: Sequence[str], fields: Iterable[str], message_ids: Sequence[str] = ()
    ) -> StitchingRead:
        """:meth:`IdentifierStore.holdings` and, in the same command, each owner as
        stored (``fields`` of it, ``fold`` among them) with its facts, as
        :meth:`persons_with_facts` reads them, and which of ``message_ids`` are stored
        already (the person of each): a single event's duplicate check, stitching and
        refresh read at once, one command where they took three (an owner of several of
        the keys comes once a key, so this is for a few). A history too long to join
        leaves the facts out.

        The owner's events are joined only when it has no stored fold that may be
        carried on (:func:`_history_unless_folded`): a returning customer's refresh
        reads the events after the fold's key instead (cdp.profile.carried), a first
        event's needs the whole history, and joined here it costs no command of its
        own. The timeline entries its memberships name are joined by id either way
        (``entries``), for the refresh's check that none is missing."""
        wanted = list(keys)
        pipeline: list[Document] = [
            *_asked(wanted, list(message_ids)),
            *holdings_joins(),
            *_facts_of("person_id", with_events=False),
            *_history_unless_folded(),
            *_membership_entries(),
            {
                "$project": {
                    **HOLDINGS_PROJECTION,
                    **{f"owner.{name}": 1 for name in fields},
                    **_facts_projection(with_events=True),
                    **{f"entries.{name}": 1 for name in ("_id", *HISTORY_FIELDS)},
                    HISTORY_OF: 1,
                    STORED: 1,
                }
            },
        ]
        try:
            rows = [row async for row in await self._db.aggregate(pipeline)]
        except OperationFailure as error:
            if error.code not in JOINED_TOO_LARGE:
                raise
            asked = find_in(self._events, "_id", message_ids, {"person_id": 1})
            stored = {doc["_id"]: doc["person_id"] async for doc in asked}
            return StitchingRead(await self._owners.holdings(wanted), {}, stored)
        stored = {doc["_id"]: doc["person_id"] for doc in rows[0][STORED]} if rows else {}
        rows = [row for row in rows if "_id" in row]  # none owned: the asked document alone
        read: dict[str, PersonRead] = {}
        for row in rows:
            if row["owner"] and row["person_id"] not in read:
                person = {"_id": row["person_id"], **row["owner"][0]}
                joined = row.pop(HISTORY_OF, "") != ""
                found = _person_read(person, row, with_events=joined)
                entries = oldest_events_first(row.pop("entries", []))
                read[row["person_id"]] = replace(found, entries=entries)
        return StitchingRead(holdings_of(rows), read, stored)

    async def by_identifier(self, keys: Sequence[str]) -> OwnerRead | None:
        """What is stored for the first of ``keys`` that someone owns, in one command."""
        pipeline: list[Document] = [
            {"$match": {"_id": {"$in": list(keys)}}},
            lookup("persons", "person_id", "_id", "person"),
            lookup("persons", "person_id", "merged_into", "absorbed"),
            lookup("identifiers", "person_id", "person_id", "identifiers"),
            lookup("memberships", "person_id", "person_id", "memberships"),
            # of the persons merged in only their ids, not their whole old profiles
            {
                "$project": {
                    "person": 1,
                    "absorbed._id": 1,
                    "identifiers": 1,
                    "memberships": 1,
                }
            },
            # the profile without the fold kept for its refresh (cdp.profile.carried): the
            # embedded server drops a field inside a joined document, not inside the list
            # a join makes
            {"$set": {"person": {"$first": "$person"}}},
            {"$unset": "person.fold"},
        ]
        found = await (await self._identifiers.aggregate(pipeline)).to_list()
        rows = {row["_id"]: row for row in found}
        key = next((key for key in keys if key in rows), None)
        if key is None:
            return None
        row = rows[key]
        return OwnerRead(
            key=key,
            person=row.get("person") or None,
            absorbed=sorted(doc["_id"] for doc in row["absorbed"]),
            identifiers=sorted(row["identifiers"], key=lambda doc: str(doc["_id"])),
            memberships=held_by_segment(row["memberships"]),
        )


def _facts_of(local: str, *, with_events: bool) -> list[Document]:
    """The joins that bring a person's facts to a row whose ``local`` field is the
    person's id: who was merged into it, its consents, memberships and (asked) events."""
    return [
        lookup("persons", local, "merged_into", "absorbed"),
        lookup("consents", local, "person_id", "consents"),
        lookup("memberships", local, "person_id", "memberships"),
        *([lookup("events", local, "person_id", "events")] if with_events else []),
    ]


HISTORY_OF = "_history_of"  # the person whose events a single event's read joins, or ""
STORED = "_stored"  # the events a single event's read found stored under the ids asked


def _asked(keys: list[str], message_ids: list[str]) -> list[Document]:
    """Stages starting a single event's read from one document naming its keys and
    message ids: the events stored under those ids are joined to it (the duplicate check
    without a command of its own), then it becomes one row per owned key, each carrying
    them, or, no key being owned, one row without an ``_id`` whose ``person_id`` of
    ``""`` joins nothing after it (a missing one would join every live person by
    ``merged_into``). Both joins go by index, a list in a field joining each of its
    values."""
    carried = {"$mergeObjects": [{"person_id": ""}, "$rows", {STORED: "$stored"}]}
    return [
        {"$documents": [{"keys": keys, "asked": message_ids}]},
        lookup("identifiers", "keys", "_id", "rows"),
        lookup("events", "asked", "_id", "stored"),
        {"$project": {"rows": 1, "stored._id": 1, "stored.person_id": 1}},
        {"$unwind": {"path": "$rows", "preserveNullAndEmptyArrays": True}},
        {"$replaceRoot": {"newRoot": carried}},
    ]


def _history_unless_folded() -> list[Document]:
    """Stages joining the owner's events unless its stored fold has a key and no floor
    at or before it (the cheap half of :func:`cdp.profile.carried.carried_of`, which
    decides: a fold it refuses is read apart), or others were merged into it (``absorbed``,
    joined by :func:`_facts_of` before these stages: a family's refresh reads every
    member's events apart, after the event is written). The embedded server does not
    follow a path through an array in an expression (``$owner.fold``), hence the
    ``$map``, which takes the key and floor alone (copying a heavy buyer's fold of some
    kilobytes made the read two to three times slower); the join by ``""`` matches no
    event and costs one index probe."""
    key_and_floor = {"key": "$$o.fold.key", "floor": "$$o.fold.floor"}  # not the tallies
    fold = {"$first": {"$map": {"input": "$owner", "as": "o", "in": key_and_floor}}}
    key_time = {"$arrayElemAt": ["$_fold.key", 0]}
    # a floor stored (a date sorts above null; the embedded server gives a missing field
    # of a built object as null) at or before the key's time
    floor_below = {"$and": [{"$gt": ["$_fold.floor", None]}, {"$lte": ["$_fold.floor", key_time]}]}
    usable = {"$and": [{"$eq": [{"$type": "$_fold.key"}, "array"]}, {"$not": [floor_below]}]}
    family = {"$gt": [{"$size": "$absorbed"}, 0]}  # the family's events are read apart
    return [
        {"$set": {"_fold": fold}},
        {"$set": {HISTORY_OF: {"$cond": [{"$or": [usable, family]}, "", "$person_id"]}}},
        lookup("events", HISTORY_OF, "person_id", "events"),
    ]


def _membership_entries() -> list[Document]:
    """Stages joining the timeline entries the owner's memberships store the ids of (a
    membership stored without one joins nothing: its entry is read apart). The ids are
    gathered into a field first: the embedded server joins by a list held in a field,
    not by a path through the joined memberships."""
    ids = {"$map": {"input": "$memberships", "as": "m", "in": "$$m.entry"}}
    return [{"$set": {"_entries": ids}}, lookup("events", "_entries", "_id", "entries")]


def _facts_projection(with_events: bool) -> Document:
    """What :func:`_facts_of` keeps: of the absorbed only their ids, of the events what
    the metrics read (an exclusion of fields is ignored by the embedded server; an
    inclusion is not)."""
    history = {f"events.{name}": 1 for name in ("_id", *HISTORY_FIELDS)}
    return {
        "absorbed._id": 1,
        "consents": 1,
        "memberships": 1,
        **(history if with_events else {}),
    }


def _person_read(person: Document, row: Document, *, with_events: bool) -> PersonRead:
    """``person`` with the facts :func:`_facts_of` joined to ``row`` (taken off it)."""
    absorbed, consents, held = row.pop("absorbed"), row.pop("consents"), row.pop("memberships")
    events = row.pop("events", None)
    return PersonRead(
        person=person,
        absorbed=sorted(doc["_id"] for doc in absorbed),
        consents=oldest_first(consents),
        memberships=held_by_segment(held),
        events=oldest_events_first(events) if with_events else None,
    )
