"""The flow of a batch of events: validate, dedupe, stitch, store.

This module only awaits stores and calls pure functions (``cdp.events`` to validate,
``identity`` to decide). A batch costs a handful of round trips whatever its size: one
read of known message ids, one of identifier owners, one of persons, one bulk write per
collection, plus one round per merge. A single event's call reads its identifiers'
holdings (with its person's facts) beside the known ids, and writes the event with its
person's mark, or its person's refresh as the mark, in one command.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from cdp.clock import utc_now
from cdp.errors import BadUserInput
from cdp.events import EventRejected, EventRules, parse_event, without_placeholders
from cdp.linking.identity_rules import current_rules
from cdp.linking.merging import settle_all
from cdp.linking.stitching import Resolution, resolve_persons, stitch
from cdp.profile.carried import Carried, carried_of
from cdp.profile.compute import Evaluation
from cdp.profile.refresh import (
    ALONE_READ_FIELDS,
    Computed,
    compute_refresh,
    refresh_persons,
    write_marked_refresh,
)
from cdp.profile.refresher import Refresher, refresh_now
from cdp.records import Event, EventResult, EventStatus, TrackResult
from cdp.segments.lookup import all_segments
from cdp.segments.record import expected_entries
from cdp.segments.tally import carryable
from cdp.store import JOIN_AT_MOST, Holdings, LinkProof, PersonRead, Stores
from cdp.store.database import Document
from cdp.store.events import new_landing, oldest_events_first
from identity import Conflict, Identifier, IdentityRules

VALIDATED_AT_ONCE = 100  # events validated between two turns of the event loop (see validated)
# What a call stored: each message id mapped to (its person, stored before)
Stored = dict[str, tuple[str, bool]]


@dataclass(frozen=True, slots=True)
class IngestLimits:
    rules: EventRules
    max_batch_size: int
    identity: IdentityRules = field(default_factory=IdentityRules)


async def track(
    stores: Stores,
    raw_events: Sequence[Mapping[str, Any]],
    limits: IngestLimits,
    now: datetime | None = None,
    refresher: Refresher | None = None,
) -> TrackResult:
    """Ingest a batch; every event gets a result, in the order sent.

    A duplicate (stored by an earlier call, sent twice in this batch, or stored by a
    concurrent call a moment before) is answered with the live person its event is on.
    The persons touched are marked pending, then refreshed before the call answers when
    they are few (or there is no ``refresher``), else by the refresher just after
    (:mod:`cdp.profile.refresher`).
    """
    check_batch_size(raw_events, limits)
    now = now or utc_now()

    async def refresh(landed: Landed) -> None:
        await refresh_touched(
            stores, refresher, [landed.persons], landed.persons, now, landed.refreshed
        )

    alone = refreshes_alone(refresher)
    return (await land(stores, raw_events, limits, now, refresh, refresh_alone=alone)).result


def refreshes_alone(refresher: Refresher | None) -> bool:
    """Whether a call of one event refreshes its person before it answers (every call
    does without a ``refresher``), so the refresh may go with the event's writes."""
    return refresher is None or refresh_now(1, refresher.policy)


async def refresh_touched(
    stores: Stores,
    refresher: Refresher | None,
    calls: Iterable[set[str]],
    touched: set[str],
    now: datetime,
    refreshed: Iterable[str] = (),
) -> None:
    """Refresh now the persons of each call that touched few (every call's, without a
    ``refresher``), as if it had come alone; hand the rest of ``touched`` to the
    refresher. ``refreshed``: persons the calls refreshed with their writes
    (:attr:`Landed.refreshed`), left out of both."""
    done = set(refreshed)
    inline: set[str] = set()
    for persons in calls:
        if refresher is None or refresh_now(len(persons), refresher.policy):
            inline |= persons
    await refresh_persons(stores, inline - done, now)
    if refresher is not None:
        refresher.submit(touched - inline - done)


def check_batch_size(raw_events: Sequence[object], limits: IngestLimits) -> None:
    if len(raw_events) > limits.max_batch_size:
        raise BadUserInput(
            f"events: {len(raw_events)} events in one call; at most {limits.max_batch_size}. "
            "Split the batch."
        )


@dataclass(frozen=True, slots=True)
class Landed:
    """A batch stored: each event's outcome, and the live persons it touched (marked
    pending, to be refreshed)."""

    result: TrackResult
    persons: set[str]
    # which event (by message id) made each new person, and the merges each proved: the
    # queue's calls landed together each count their own (:mod:`cdp.ingest_queue`)
    created_by: frozenset[str] = frozenset()
    merges_by: Mapping[str, int] = field(default_factory=dict)
    # a single event's person, refreshed with the event's writes (_store_alone)
    refreshed: frozenset[str] = frozenset()


Alongside = Callable[[Landed], Awaitable[None]]


async def land(
    stores: Stores,
    raw_events: Sequence[Mapping[str, Any]],
    limits: IngestLimits,
    now: datetime,
    alongside: Alongside | None = None,
    *,
    refresh_alone: bool = False,
) -> Landed:
    """Validate, deduplicate, stitch and store a batch, and mark its persons pending.

    ``alongside`` (a refresh of the persons touched) runs while the landing is closed:
    it needs the pending marks, which are written by then, not the closing, and those
    marks are what a crash during it leaves for the refresher, as before.
    ``refresh_alone``: the caller refreshes a single event's person before answering,
    so that refresh may be written with the event (:func:`_store_alone`).
    """
    rules = await current_rules(stores, limits.identity)
    outcomes, blocked = await validated(raw_events, limits.rules, now, rules)
    await _count_blocked(stores, outcomes, blocked)
    unique: dict[str, Event] = {}  # first occurrence of each message id, in send order
    for outcome in outcomes:
        if isinstance(outcome, Event):
            unique.setdefault(outcome.message_id, outcome)
    # The landing is opened for every event sent, beside the read of those stored
    # before (one round trip, not two): for a duplicate it notes what is already true.
    # An event that may go alone (:func:`_store_alone`) opens it in its own command.
    landing = new_landing()
    with_event = _may_go_alone(unique.values()) and await stores.ordered.available()

    def opening() -> tuple[Awaitable[tuple[dict[str, str], set[str]]], Awaitable[None]]:
        return (
            stores.events.existing(unique, landing),
            (
                stores.events.open_landing(landing, list(unique), now)
                if unique and not with_event
                else asyncio.sleep(0)
            ),
        )

    keys = {key for event in unique.values() for key in event.keys}
    read: dict[str, PersonRead] = {}
    if unique and len(keys) <= JOIN_AT_MOST:
        # A few identifiers (a single event's): the stitching lock is taken first and
        # their holdings read under it beside the opening, a round trip fewer. It is
        # held as long as before (one read, the plan, its writes), only earlier. An
        # event that may go alone without traits reads its refresh's facts with them.
        # When another batch is stitching (a bulk load beside this live event), or the
        # lock is a lease that costs writes, the read comes first: events whose
        # identifiers are all one live person's already need no stitching write, so not
        # the lock either (a merge of that person meanwhile refuses the mark, as after
        # the lock); any other reads again under it. The read with the facts finds the
        # events stored before too (a duplicate check without a command of its own).
        with_facts = with_event and not any(event.traits for event in unique.values())
        locked = stores.stitching.free()
        async with stores.stitching.held() if locked else nullcontext():
            if with_facts:
                joined = await stores.profile_reads.holdings_with_facts(
                    sorted(keys), ALONE_READ_FIELDS, list(unique)
                )
                first, read, known = joined.holdings, joined.owners, joined.stored
                cut_short = await stores.events.cut_short(known, landing)
            else:
                (known, cut_short), _, first = await asyncio.gather(
                    *opening(), stores.identifiers.holdings(keys)
                )
            stored_before, fresh = _split(unique, known, cut_short)
            whole = len(fresh) == len(unique)  # the holdings read are those to stitch
            if locked or (whole and _one_live_owner(fresh, first)):
                resolution = await stitch(stores, fresh, rules, now, first if whole else None)
            else:
                resolution = await resolve_persons(stores, fresh, rules, now)
    else:
        (known, cut_short), _ = await asyncio.gather(*opening())
        stored_before, fresh = _split(unique, known, cut_short)
        # The persons a bulk batch merges away are moved after the lock, beside the
        # events' insert (_store): their moves take a dozen round trips, 90 ms a batch of
        # returning customers, during which no other batch could stitch.
        resolution = await resolve_persons(stores, fresh, rules, now, settle=False)
    alone = None
    if with_event and not stored_before and not cut_short:  # a first send: nothing to repair
        alone = await _store_alone(
            stores, fresh, resolution, now, landing, read, refresh=refresh_alone
        )
    refreshed: frozenset[str] = frozenset()
    closed = False
    if alone is not None:
        landed, persons, refreshed, closed = (
            alone.landed,
            alone.persons,
            alone.refreshed,
            alone.closed,
        )
    else:
        if with_event:  # it did not go alone: open the landing before writing (once)
            await stores.events.open_landing(landing, list(unique), now)

        async def mark(landed: Stored) -> dict[str, str]:
            # a retried batch repairs a refresh cut short, duplicates or not: all are
            # marked; every event landed here is new to its person as far as this call
            # knows (one the insert found may be this call's own, sent again: see _store)
            landed_on = {p for p, _ in landed.values()}
            oldest = min((event.timestamp for event in unique.values()), default=None)
            return await _mark_touched(
                stores, {*stored_before.values(), *landed_on}, landed_on, now, oldest
            )

        # The identifiers' first and last seen are not written here: the refresh that
        # follows reads the persons' whole histories and keeps each identifier's span on
        # the profile (cdp.profile.sightings). A returning customer's batch moved most of
        # its keys (620 documents for 500 events), each write paid again when the server
        # prunes its oplog.
        landed, persons = await _store(stores, fresh, resolution, now, mark)
    touched = set(persons.values())
    answer = _answer(outcomes, blocked, stored_before, landed, persons, resolution)
    done = Landed(answer, touched, *_made_by(fresh, resolution), refreshed=refreshed)
    # the landing is closed last: a crash before it leaves its events to repair
    await asyncio.gather(
        stores.events.finish([landing] if unique and not closed else []),
        alongside(done) if alongside else asyncio.sleep(0),
    )
    return done


def _one_live_owner(events: Sequence[Event], holdings: Holdings) -> bool:
    """Whether every identifier of these events is already held by one and the same
    person, not merged away: stitching them claims, creates, moves and merges nothing."""
    keys = {key for event in events for key in event.keys}
    owners = {holdings.owned[key].person_id for key in keys if key in holdings.owned}
    return bool(keys) and keys <= holdings.owned.keys() and len(owners) == 1 and not holdings.merged


async def validated(
    raw_events: Sequence[Mapping[str, Any]],
    rules: EventRules,
    now: datetime,
    identity: IdentityRules,
) -> tuple[list[Event | EventResult], dict[int, tuple[Identifier, ...]]]:
    """Each event validated (an :class:`Event`, or the result that rejects it), and the
    placeholder identifiers dropped from each, by index. ``VALIDATED_AT_ONCE`` at a time,
    the event loop turning in between: a bulk call's 500 held it 22 to 45 ms, which a
    live call beside it waited out."""
    blocked: dict[int, tuple[Identifier, ...]] = {}
    outcomes: list[Event | EventResult] = []
    for index, raw in enumerate(raw_events):
        if index and index % VALIDATED_AT_ONCE == 0:
            await asyncio.sleep(0)
        outcome = _validate(raw, rules, now, identity)
        if isinstance(outcome, tuple):
            outcome, blocked[len(outcomes)] = outcome
        outcomes.append(outcome)
    return outcomes, blocked


def _made_by(
    events: Sequence[Event], resolution: Resolution
) -> tuple[frozenset[str], Counter[str]]:
    """The message ids of the first event on each new person, and the merges each event
    proved (``events``: those stitched, in the order ``resolution`` has them)."""
    first_on: dict[str, str] = {}
    for event, person in zip(events, resolution.persons, strict=True):
        if person in resolution.created:
            first_on.setdefault(person, event.message_id)
    merges = Counter({events[index].message_id: n for index, n in resolution.merged_by.items()})
    return frozenset(first_on.values()), merges


def _split(
    unique: Mapping[str, Event], known: Mapping[str, str], cut_short: set[str]
) -> tuple[dict[str, str], list[Event]]:
    """The events stored before (message id -> person) and those to stitch and store: an
    event whose call died after storing it (``cut_short``) is stitched and applied again."""
    stored_before = {m: p for m, p in known.items() if m not in cut_short}
    fresh = [event for message_id, event in unique.items() if message_id not in stored_before]
    return stored_before, fresh


async def _mark_touched(
    stores: Stores, asked: set[str], updated: set[str], now: datetime, oldest: datetime | None
) -> dict[str, str]:
    """Mark the persons the batch's events are on pending (``updated``: those that got
    new events), each where it lives now; map each to that live person.

    A person merged away after the stitching (by another call, once the lock was
    released) may hold an event this call stored after the merge moved that person's
    events: it is settled (the event moved on) and its survivor marked. A few persons
    (a single event's) are first marked where they are, if every one is still live: one
    command instead of a read of the merge chain and then the mark. A mark is written
    after the events it announces, in both ways, with the oldest of them (``oldest``,
    for the persons' stored folds: :mod:`cdp.profile.carried`).
    """
    if len(asked) <= JOIN_AT_MOST and await stores.persons.mark_pending_if_live(
        asked, now, updated=updated, oldest=oldest
    ):
        return {person: person for person in asked}
    return await _settle_and_mark(stores, asked, updated, now, oldest)


async def _settle_and_mark(
    stores: Stores, asked: set[str], updated: set[str], now: datetime, oldest: datetime | None
) -> dict[str, str]:
    """Settle the persons asked (an event stored on one merged away moves on) and mark
    their live persons pending; map each to its live person. A person marked where it
    was before this is marked again: its change counter moves twice, which is harmless."""
    persons = await settle_all(stores, asked)
    await stores.persons.mark_pending(
        set(persons.values()), now, updated={persons[p] for p in updated}, oldest=oldest
    )
    return persons


# An event of more identifiers than this is stored by the batch's writes: one command
# takes its landing, the event, its identifiers' bounds (up to two each), traits, the
# mark and the links it proves (one fewer than its identifiers), and the embedded server
# commits each write of a command apart (cdp.store.ordered).
ALONE_AT_MOST = 3


def _may_go_alone(events: Iterable[Event]) -> bool:
    """Whether a call's events look like one that :func:`_store_alone` takes: a single
    event of a few identifiers. Told before stitching, to open the landing in the same
    command; stitching may still find a conflict or a merge."""
    sent = list(events)
    return len(sent) == 1 and len(sent[0].identifiers) <= ALONE_AT_MOST


@dataclass(frozen=True, slots=True)
class _Alone:
    """What :func:`_store_alone` did: as :func:`_store` and :func:`_mark_touched`
    answer, the persons refreshed with the event's writes, and whether the landing was
    closed in the same command."""

    landed: Stored
    persons: dict[str, str]
    refreshed: frozenset[str]
    closed: bool


async def _store_alone(
    stores: Stores,
    events: Sequence[Event],
    resolution: Resolution,
    now: datetime,
    landing: str,
    read: Mapping[str, PersonRead],
    *,
    refresh: bool,
) -> _Alone | None:
    """Store one new event that stitching put on one person without a conflict or a
    merge, with everything that follows it, in one command (:mod:`cdp.store.ordered`):
    its ``landing`` opened, the event, its identifiers' first and last seen (kept on the
    profile instead when its refresh goes with it), its traits, the mark of its person,
    the links it proves, and the landing closed. The server
    applies them in that order, as the separate writes did (a mark after the event and
    the traits the refresh reads), a round trip each sooner; a link needs no order (a
    refresh does not read links).

    When its person was read live with the facts a refresh reads (``read``, for an
    event without traits) and the caller refreshes before answering (``refresh``), the
    refresh is computed first, from that read with the event added, and the mark is the
    refreshed profile, with the membership changes after it in the same command
    (:func:`cdp.profile.refresh.write_marked_refresh`): a write and a command fewer.

    The landing's close is the last write, and the mark before it is guarded: refused
    when the person was merged away since the stitching (or, carrying the refresh,
    changed since it was read), which stops the command with the landing open (and the
    links unwritten) while the event moves on to the survivor and its person is marked
    for a refresh that reads it, as before. Closed, nothing of the event's is left to
    repair; its refresh is what the mark announces, to the refresher's sweep should
    this call die.

    For a call that :func:`_may_go_alone` on a server that takes the command (the
    caller asked both before stitching). None when stitching found a conflict or a
    merge, or another call stored the same message id a moment before (nothing of the
    event's was written then, the landing is open: the separate writes say so)."""
    if resolution.conflicts[0] or resolution.merges:
        return None
    event, person = events[0], resolution.persons[0]
    document = _event_document(event, person, now)
    ahead = await _refresh_ahead(stores, read.get(person), document, now) if refresh else None
    before_mark = [
        *stores.events.open_landing_writes(landing, [event.message_id], now),
        *stores.events.insert_writes([document]),
        # its identifiers' first and last seen: on the profile with its refresh when that
        # goes with it (cdp.profile.sightings), a synced write each fewer; else here
        *(
            stores.identifiers.widen_writes(resolution.sightings, resolution.known)
            if ahead is None
            else []
        ),
        *stores.persons.set_traits_writes([(person, event.traits, event.timestamp)]),
    ]
    at_mark = len(before_mark)
    proofs = _proofs(events, resolution, [0])
    tail = [*stores.links.record_writes(proofs), *stores.events.finish_writes(landing)]
    landed = {event.message_id: (person, False)}
    if ahead is not None:
        framed = await write_marked_refresh(stores, ahead, person, now, before_mark, tail)
        if framed.changes is not None:  # stored, marked and refreshed
            if not framed.tail_done:  # a pair linked by another call, or a membership
                await stores.links.record(proofs)
            refreshed = frozenset({person})
            return _Alone(landed, {person: person}, refreshed, closed=framed.tail_done)
        applied = framed.applied
    else:
        mark = stores.persons.mark_guarded_write(person, now, updated=True, oldest=event.timestamp)
        applied = await stores.ordered.apply([*before_mark, mark, *tail], guarded={at_mark})
    stop = applied.stopped_at
    if stop is not None and stop < at_mark:
        return None
    if stop is not None:  # stopped at the mark, or a pair linked by another call meanwhile
        await stores.links.record(proofs)
    if applied.refused or applied.matched.get(at_mark) != 1:  # merged away, changed, gone
        persons = await _settle_and_mark(stores, {person}, {person}, now, event.timestamp)
        return _Alone(landed, persons, frozenset(), closed=stop is None)
    return _Alone(landed, {person: person}, frozenset(), closed=stop is None)


async def _refresh_ahead(
    stores: Stores, was: PersonRead | None, document: Document, now: datetime
) -> Computed | None:
    """The refresh of a single event's person computed before the event is written:
    from the person as read beside the stitching, live, with its events (those after its
    stored fold's key when the fold can be carried on, none to read when the fold is
    current, else its whole history, joined to that read unless the person has a fold
    that looked usable: :mod:`cdp.profile.carried`), the event and its mark added; None
    when it was not so read, or others were merged into it (their histories are read
    apart, and would miss the event not yet written)."""
    if was is None or was.absorbed or was.person.get("merged_into"):
        return None
    person = str(was.person["_id"])
    event = stores.events.as_read(document)
    leaves = Evaluation.decided_by_refresh(await all_segments(stores)).counted
    carried = None
    if carryable(leaves):
        carried = carried_of(was.person, now, (event["timestamp"], event["_id"]), leaves)
    if carried is not None:
        history = await _after_fold(stores, was, carried)
    elif was.events is not None:  # joined to the person's read: its whole history
        history = was.events
    else:
        history = (await stores.events.histories([person], with_identifiers=True)).get(person, [])
    computed = await compute_refresh(
        stores,
        {person},
        now,
        {person: _with_event(was, history, event)},
        {person: carried} if carried else None,
    )
    return computed if computed is not None and person in computed.exact else None


async def _after_fold(stores: Stores, was: PersonRead, carried: Carried) -> list[Document]:
    """The events after a carried fold's key, with the timeline entries the person's
    memberships name (the refresh checks that none is missing): nothing to read when
    the fold is current (:mod:`cdp.profile.carried`) and the entries were joined to the
    person's read, which they are when every membership stores its entry's id."""
    person = str(was.person["_id"])
    recorded = [held for held in was.memberships.values() if held.recorded]
    if was.entries is None or not all(held.entry for held in recorded):
        named = sorted(expected_entries(person, was.memberships).values())
        return await stores.events.after(person, carried.key[0], named)
    if carried.current:
        return was.entries
    found = await stores.events.after(person, carried.key[0])
    return oldest_events_first(list({doc["_id"]: doc for doc in [*found, *was.entries]}.values()))


def _with_event(read: PersonRead, history: Sequence[Document], event: Document) -> PersonRead:
    """A person as read before its event and its mark were written, with both: one more
    event in its history (``history``, read after the person), one more change counted."""
    return replace(
        read,
        person={**read.person, "changes": int(read.person.get("changes", 0)) + 1},
        events=oldest_events_first([*history, event]),
    )


def _proofs(
    events: Sequence[Event], resolution: Resolution, stored: Iterable[int]
) -> list[LinkProof]:
    """The links the stored events (by index) proved, each with its event."""
    return [
        LinkProof(
            link.a, link.b, events[i].message_id, events[i].channel.value, events[i].timestamp
        )
        for i in stored
        for link in resolution.links[i]
    ]


def _answer(
    outcomes: Sequence[Event | EventResult],
    blocked: Mapping[int, tuple[Identifier, ...]],
    stored_before: Mapping[str, str],
    landed: Mapping[str, tuple[str, bool]],
    persons: Mapping[str, str],
    resolution: Resolution,
) -> TrackResult:
    """Each event's outcome in the order sent, on the live person it is on now."""
    results: list[EventResult] = []
    first_sent: set[str] = set()
    for index, outcome in enumerate(outcomes):
        if isinstance(outcome, EventResult):
            results.append(outcome)
            continue
        message_id = outcome.message_id
        if message_id in stored_before:
            person, status = stored_before[message_id], EventStatus.DUPLICATE
        else:
            person, raced = landed[message_id]
            status = (
                EventStatus.DUPLICATE if raced or message_id in first_sent else EventStatus.ACCEPTED
            )
        first_sent.add(message_id)
        results.append(
            EventResult(
                message_id, status, person_id=persons[person], blocked=blocked.get(index, ())
            )
        )
    return TrackResult(results, len(resolution.created), resolution.merges)


def _validate(
    raw: Mapping[str, Any], rules: EventRules, now: datetime, identity: IdentityRules
) -> Event | tuple[Event, tuple[Identifier, ...]] | EventResult:
    """The event, without its placeholder identifiers (and those it lost, if any), or
    its rejection (which names the placeholders when they were all it had)."""
    try:
        event = parse_event(raw, rules, now)
    except EventRejected as rejection:
        return _rejected(raw, rejection)
    try:
        kept, blocked = without_placeholders(event, identity)
    except EventRejected as rejection:
        return _rejected(raw, rejection, blocked=event.identifiers)
    return (kept, blocked) if blocked else kept


def _rejected(
    raw: Mapping[str, Any], rejection: EventRejected, blocked: tuple[Identifier, ...] = ()
) -> EventResult:
    return EventResult(
        message_id=_sent_message_id(raw),
        status=EventStatus.REJECTED,
        error=rejection.message,
        code=rejection.code,
        field=rejection.field,
        blocked=blocked,
    )


async def _count_blocked(
    stores: Stores,
    outcomes: Sequence[Event | EventResult],
    blocked: Mapping[int, tuple[Identifier, ...]],
) -> None:
    """Count placeholders per type (``identityRules { blocked }``), those of events
    refused for them included."""
    refused = (o.blocked for o in outcomes if isinstance(o, EventResult))
    counts = Counter(i.type for dropped in (*blocked.values(), *refused) for i in dropped)
    if counts:
        await stores.config.count_blocked(counts)


async def _store(
    stores: Stores,
    events: Sequence[Event],
    resolution: Resolution,
    now: datetime,
    mark: Callable[[Stored], Awaitable[dict[str, str]]],
) -> tuple[Stored, dict[str, str]]:
    """Store new events (and those a call that died had stored: cut short), as
    stitched, under the landing the caller opened, then mark their persons (``mark``,
    given what was stored; it maps each person to where it lives). Returns what was
    stored, each message id mapped to (person, stored before), and what ``mark`` said.

    What follows an event (its traits, links, conflicts) is written for every event
    here, those the insert found stored too: the writer that stored one first may be
    this very call, a moment before, when the database applied part of a command,
    restarted before answering and forgot it, and PyMongo sent the command again (a
    retryable write); that first attempt may have stopped before these writes. Another
    call's event written again is harmless: each of these writes is idempotent."""
    if not events:
        return {}, await mark({})
    persons = resolution.persons
    documents = [
        _event_document(event, person, now) for event, person in zip(events, persons, strict=True)
    ]
    # What follows the stitching writes different documents and each write can be
    # repeated (the landing is open): the events beside the moves of the persons merged
    # away (the new events are on the survivors already), then what they prove side by
    # side, the marks after the moves (the identifiers' bounds go beside all of it: land).
    if resolution.unsettled:
        raced, _ = await asyncio.gather(
            stores.events.insert(documents), settle_all(stores, resolution.unsettled)
        )
    else:
        raced = await stores.events.insert(documents)
    landed = {
        e.message_id: (p, e.message_id in raced) for e, p in zip(events, persons, strict=True)
    }
    every = range(len(events))

    async def traits_then_mark() -> dict[str, str]:
        # The traits before the marks: a refresh already running reads the person once
        # marked, and must find the traits the mark announces. The links and conflicts
        # are read by no refresh: they go beside both.
        await stores.persons.set_traits(
            (persons[i], events[i].traits, events[i].timestamp) for i in every if events[i].traits
        )
        return await mark(landed)

    marked, _, _ = await asyncio.gather(
        traits_then_mark(),
        stores.links.record(_proofs(events, resolution, every)),
        stores.conflicts.record(
            [_conflict_document(c, events[i], now) for i in every for c in resolution.conflicts[i]]
        ),
    )
    return landed, marked


def _conflict_document(conflict: Conflict, event: Event, now: datetime) -> dict[str, Any]:
    return {
        "_id": conflict_id(event.message_id, conflict.key),
        "person_id": conflict.person,
        "other_id": conflict.other,
        "key": conflict.key,
        "rule": conflict.rule,
        "event_id": event.message_id,
        "at": now,
    }


def conflict_id(message_id: str, key: str) -> str:
    """A conflict's id: the same for a replay of its event (so it is recorded once), and
    opaque, because ids and cursors reach keys that may not read the identifier."""
    return hashlib.sha256(f"{message_id}|{key}".encode()).hexdigest()[:32]


def _event_document(event: Event, person_id: str, now: datetime) -> dict[str, Any]:
    return {
        "_id": event.message_id,
        "person_id": person_id,
        "type": event.type,
        "channel": event.channel.value,
        "timestamp": event.timestamp,
        "received_at": now,
        "identifiers": [{"type": i.type, "value": i.value} for i in event.identifiers],
        "properties": event.properties,
        "traits": event.traits,
    }


async def repair_unfinished(
    stores: Stores, limits: IngestLimits, received_before: datetime, now: datetime
) -> set[str]:
    """Finish events whose call died after storing them and that no client sent again:
    each is landed again from what was stored (stitching, traits, links, conflicts and
    the refresh mark are idempotent), then the dead call's landing is closed. Returns
    the persons to refresh."""
    await _remove_empty_persons(stores, received_before, limits.max_batch_size)
    docs, landings = await stores.events.unfinished(received_before, limits.max_batch_size)
    persons: set[str] = set()
    if docs:
        persons = (await land(stores, [_as_sent(doc) for doc in docs], limits, now)).persons
    await stores.events.finish(landings)  # events never stored need nothing more
    return persons


async def _remove_empty_persons(stores: Stores, created_before: datetime, limit: int) -> None:
    """Persons a dead call created but never gave an identifier or an event to."""
    candidates = await stores.persons.unclaimed(created_before, limit)
    if not candidates:
        return
    held = {doc["person_id"] for doc in await stores.identifiers.of_persons(candidates)}
    held |= await stores.events.with_history(set(candidates) - held, 1)
    await stores.persons.settle_unclaimed(held, set(candidates) - held)


def _as_sent(doc: Mapping[str, Any]) -> dict[str, Any]:
    """A stored event as a client would send it again."""
    return {
        "messageId": doc["_id"],
        "type": doc["type"],
        "channel": doc["channel"],
        "identifiers": doc["identifiers"],
        "timestamp": doc["timestamp"],
        "properties": doc.get("properties") or {},
        "traits": doc.get("traits") or {},
    }


def _sent_message_id(raw: Mapping[str, Any]) -> str:
    """The caller's message id, or a fresh one so the result can still be told apart."""
    sent = raw.get("messageId")
    return sent if isinstance(sent, str) and sent else uuid.uuid4().hex


async def identify(
    stores: Stores,
    identifiers: Sequence[Mapping[str, str]],
    traits: object,
    limits: IngestLimits,
    channel: str = "OTHER",
) -> str:
    """Stitch identifiers (and set traits) without a business event; return the person id.

    It is stored as an ``identify`` event so that every link keeps the event that proved
    it, and the timeline shows when the profile was enriched.
    """
    raw: dict[str, Any] = {"type": "identify", "channel": channel, "identifiers": list(identifiers)}
    if traits is not None:
        raw["traits"] = traits  # validated with the event, like any other traits
    result = (await track(stores, [raw], limits)).results[0]
    if result.status is EventStatus.REJECTED:
        raise BadUserInput(result.error or "the identify call was rejected")
    assert result.person_id is not None
    return result.person_id
