"""Recording membership changes: a membership that began or ended, each with its entry
on the person's timeline, written so that a write cut short can simply run again."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from cdp.segments.changes import ENTERED, LEFT, SEGMENT_EVENT_TYPES, change_event, entry_id
from cdp.segments.definitions import INTEREST_PREFIX, SegmentDefinition, interest_segment
from cdp.segments.rules import rule_to_data
from cdp.store import Stores
from cdp.store.database import Document
from cdp.store.memberships import Held
from cdp.store.ordered import FEW_WRITES, Applied, Write


class Changes(NamedTuple):
    """What :func:`record_changes` wrote."""

    entered: int
    left: int
    persons: set[str]


@dataclass(frozen=True, slots=True)
class Frame:
    """A caller's writes sent in the same command as the membership changes
    (:mod:`cdp.store.ordered`): ``lead`` before them, its last write guarded (the
    profile the changes were decided with), ``tail`` after them."""

    lead: Sequence[Write]
    tail: Sequence[Write] = ()


@dataclass(frozen=True, slots=True)
class Framed:
    """What :func:`record_framed` did. ``applied``: the run of the command that carried
    the frame, indexes counted from its lead's first write. ``changes``: None when the
    run stopped within the lead (nothing after the stop was written). ``tail_done``:
    whether every write of the tail was applied."""

    applied: Applied
    changes: Changes | None
    tail_done: bool


async def record_changes(
    stores: Stores,
    before: Mapping[str, Mapping[str, Held]],
    after: Mapping[str, set[str]],
    segments: Sequence[SegmentDefinition],
    now: datetime,
    missing: Iterable[tuple[str, str]] = (),
) -> Changes:
    """Write memberships that began or ended, each with its timeline entry; returns
    (entered, left) as counted by this writer, and the persons it wrote for. ``missing``:
    (segment, person) memberships held whose entry a refresh did not find on the
    timeline (:func:`missing_entries`), written again.

    Order makes it safe to cut anywhere and run again: a membership is inserted, then
    its entry written (id from the time it began, so a repeat is one entry), and a
    refresh that finds the entry missing writes it; a leaving is written to the timeline
    before the membership is deleted. Entries of both kinds go in one write, and what
    follows them (the deletions, the check for a merge, the flag of a membership an
    earlier version stored unrecorded) side by side: each touches other documents, or
    the same ones to the same end.
    """
    changes = (await record_framed(stores, before, after, segments, now, missing)).changes
    assert changes is not None  # no frame, no guard to refuse
    return changes


async def record_framed(
    stores: Stores,
    before: Mapping[str, Mapping[str, Held]],
    after: Mapping[str, set[str]],
    segments: Sequence[SegmentDefinition],
    now: datetime,
    missing: Iterable[tuple[str, str]] = (),
    frame: Frame | None = None,
) -> Framed:
    """:func:`record_changes`, the ``frame``'s writes in the first command: its lead
    (a single event's own writes, ending with its person's profile, guarded) before the
    memberships and its tail after them, all in one command where the memberships fit
    in one, else the frame alone first."""
    names = {segment.id: segment.name for segment in segments}
    entering: list[tuple[str, str]] = []
    unrecorded: list[tuple[str, str, datetime]] = []  # stored unrecorded: flagged after
    leaving: list[tuple[str, str, datetime]] = []
    again = set(missing)
    rewritten: list[tuple[str, str, datetime]] = []
    for person, segments_now in after.items():
        held = before.get(person, {})
        entering += [(s, person) for s in sorted(segments_now - held.keys())]
        unrecorded += [(s, person, h.entered_at) for s, h in sorted(held.items()) if not h.recorded]
        rewritten += [
            (s, person, h.entered_at)
            for s, h in sorted(held.items())
            if h.recorded and (s, person) in again and s in segments_now
        ]
        leaving += [
            (s, person, h.entered_at)
            for s, h in sorted(held.items())
            if s not in segments_now and (s in names or s.startswith(INTEREST_PREFIX))
        ]
    topics = {s[len(INTEREST_PREFIX) :] for s, _ in entering if s.startswith(INTEREST_PREFIX)}
    if topics:
        await stores.segments.add_interests(interest_document(t, now) for t in sorted(topics))

    def name(segment: str) -> str:
        return names.get(segment) or interest_segment(segment[len(INTEREST_PREFIX) :]).name

    def entered_with(added: Sequence[tuple[str, str]]) -> list[tuple[str, str, datetime]]:
        return unrecorded + rewritten + [(s, p, now) for s, p in added]

    def entries(added: Sequence[tuple[str, str]]) -> list[Document]:
        return [
            change_event(ENTERED, s, name(s), p, since, since)
            for s, p, since in entered_with(added)
        ] + [change_event(LEFT, s, name(s), p, since, now) for s, p, since in leaving]

    left = [(s, p) for s, p, _ in leaving]
    told = await _enter_and_tell(stores, entering, entries, left, now, frame or Frame([]))
    if told.entered is None:
        return Framed(told.applied, None, tail_done=False)
    added, gone = told.entered
    entered = entered_with(added)
    wrote_for = {p for _, p, _ in entered + leaving}
    await asyncio.gather(
        stores.memberships.mark_recorded((s, p) for s, p, _ in unrecorded),
        stores.memberships.leave([] if told.left else left),
        _clean_up_after_merges(stores, wrote_for, gone),
    )
    changes = Changes(len(added), len(leaving), wrote_for)
    return Framed(told.applied, changes, told.tail_done)


@dataclass(frozen=True, slots=True)
class _Told:
    """What :func:`_enter_and_tell` did: the run of the frame's command; the memberships
    this writer added and the persons found merged away with the writes (None: not
    checked), or None when the run stopped within the frame's lead."""

    applied: Applied
    entered: tuple[list[tuple[str, str]], set[str] | None] | None
    tail_done: bool = False
    left: bool = False  # the memberships ended were deleted in the command


async def _enter_and_tell(
    stores: Stores,
    entering: list[tuple[str, str]],
    entries: Callable[[Sequence[tuple[str, str]]], list[Document]],
    leaving: list[tuple[str, str]],
    now: datetime,
    frame: Frame,
) -> _Told:
    """Insert the memberships begun, then the timeline entries and exits (``entries``
    of the memberships this writer added), with the ``frame``'s writes around them.

    Where the server takes several collections' writes in one command and they are few
    (a single event's), they go in one, in order, the memberships ended (``leaving``)
    deleted after their exits, the check for a merge last: a
    membership another writer holds already is a duplicate key that stops the command
    before anything after it, which is then written as below, knowing what was (a
    duplicate entry is another writer's same entry, stored once; the tail is then the
    caller's to write again).
    """
    told = entries(entering)  # as if every membership begun is this writer's: usually so
    wrote_for = sorted({entry["person_id"] for entry in told})
    writes = len(entering) + len(told) + len(leaving)  # the checks change nothing: not counted
    lead, tail = list(frame.lead), list(frame.tail)
    guarded = {len(lead) - 1} if lead else set()
    if not told or writes > FEW_WRITES or not await stores.ordered.available():
        applied = Applied(None, {})
        if lead or tail:
            applied = await stores.ordered.apply([*lead, *tail], guarded=guarded)
        if applied.stopped_at is not None and applied.stopped_at < len(lead):
            return _Told(applied, None)
        added = await stores.memberships.enter(entering, now)  # a bulk batch's: cheaper apart
        await stores.events.insert(told if len(added) == len(entering) else entries(added))
        return _Told(applied, (added, None), tail_done=applied.stopped_at is None)
    checks = stores.persons.merged_away_writes(wrote_for)
    applied = await stores.ordered.apply(
        [
            *lead,
            *stores.memberships.enter_writes(entering, now),
            *stores.events.insert_writes(told),
            *stores.memberships.leave_writes(leaving),
            *checks,
            *tail,
        ],
        guarded=guarded,
    )
    stop = applied.stopped_at
    if stop is not None and stop < len(lead):
        return _Told(applied, None)
    own = None if stop is None else stop - len(lead)  # among this writer's writes
    if own is None or own >= writes + len(checks):  # all written, the checks after them
        checked = len(lead) + writes
        merged = {p for i, p in enumerate(wrote_for) if applied.matched.get(checked + i) == 1}
        return _Told(applied, (entering, merged), tail_done=stop is None, left=True)
    if own < len(entering):  # held by another writer (theirs to tell), unless our own
        added = entering[:own] + await stores.memberships.enter(entering[own:], now)
        await stores.events.insert(entries(added))
        return _Told(applied, (added, None))
    await stores.events.insert(told[own - len(entering) + 1 :])
    return _Told(applied, (entering, None))


async def _clean_up_after_merges(
    stores: Stores, wrote_for: set[str], gone: set[str] | None = None
) -> None:
    """A person merged away while this refresh ran must not keep what it just wrote.

    The merge drops an absorbed person's memberships and their timeline entries; a
    refresh that began before the merge may write them after it. Checked after the
    writes, so whichever of the two finishes last cleans up (a merge marked after this
    check is the merge's to clean). ``gone``: the persons found merged away by a check
    sent with the writes; None reads it here.
    """
    if not wrote_for:
        return
    if gone is None:
        parent = await stores.persons.parents(wrote_for)
        gone = {person for person in wrote_for if parent.get(person, person) != person}
    if gone:
        await stores.memberships.delete_of_persons(sorted(gone))
        await stores.events.delete_of_types(gone, SEGMENT_EVENT_TYPES)


def missing_entries(
    held: Mapping[str, Mapping[str, Held]], histories: Mapping[str, Sequence[Document]]
) -> set[tuple[str, str]]:
    """(segment, person) memberships stored recorded whose entry is not in the person's
    history: a write cut short between the membership and its entry. A refresh reads
    both; a membership another writer is recording at that moment looks the same, and
    writing its entry again is harmless (same id, stored once)."""
    missing: set[tuple[str, str]] = set()
    for person, segments in held.items():
        expected = expected_entries(person, segments)
        if not expected:
            continue
        on_timeline = {doc["_id"] for doc in histories.get(person, ()) if doc["type"] == ENTERED}
        missing |= {(s, person) for s, entry in expected.items() if entry not in on_timeline}
    return missing


def expected_entries(person: str, segments: Mapping[str, Held]) -> dict[str, str]:
    """The timeline entry (its event id) each recorded membership of a person has, by
    segment: what :func:`missing_entries` looks for in a history."""
    return {
        s: h.entry or entry_id(ENTERED, s, person, h.entered_at)
        for s, h in segments.items()
        if h.recorded
    }


def interest_document(topic: str, now: datetime) -> Document:
    segment = interest_segment(topic)
    return {
        "_id": segment.id,
        "name": segment.name,
        "description": segment.description,
        "kind": segment.kind.value,
        "rule": rule_to_data(segment.rule),
        "created_at": now,
        "updated_at": now,
    }
