"""Stitching a batch against the store: read the facts, let ``identity`` decide, apply.

Plans are made with what the database says now; the unowned identifiers are then claimed
with inserts. A claim lost to a concurrent writer means the plan was made on stale facts,
so the events carrying that identifier are planned again. Every round makes progress:
the lost identifiers now have owners.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from cdp.linking.merging import MergeRequest, apply_merges, settle_all
from cdp.records import Event
from cdp.segments.changes import SEGMENT_EVENT_TYPES
from cdp.store import JOIN_AT_MOST, Holdings, Owned, Sighting, Stores
from identity import (
    Conflict,
    Identifier,
    IdentityRules,
    Link,
    holders_consulted,
    new_person_id,
    plan_batch,
)

MAX_ROUNDS = 25


@dataclass(slots=True)
class Resolution:
    """Each event's person, the persons created (and kept), how many merges it made, and
    per event the links it proved and the links the rules refused."""

    persons: list[str]
    created: set[str] = field(default_factory=set)
    merged_by: Counter[int] = field(default_factory=Counter)  # event index -> merges it made
    links: dict[int, list[Link]] = field(default_factory=dict)
    conflicts: dict[int, list[Conflict]] = field(default_factory=dict)
    # what the batch saw of each identifier, and what was stored of those already owned:
    # their first and last seen are widened after the lock (IdentifierStore.widen)
    sightings: dict[str, Sighting] = field(default_factory=dict)
    known: dict[str, Owned] = field(default_factory=dict)
    # persons merged away whose moves the caller finishes (stitch with settle=False)
    unsettled: set[str] = field(default_factory=set)

    @property
    def merges(self) -> int:
        """How many merges the batch's events proved."""
        return sum(self.merged_by.values())


async def resolve_persons(
    stores: Stores,
    events: Sequence[Event],
    rules: IdentityRules,
    now: datetime,
    *,
    settle: bool = True,
) -> Resolution:
    """Find or create the person of each event, applying merges, moves and claims; one
    batch at a time (:mod:`cdp.store.locks`), so the limits hold under concurrency.
    ``settle=False``: the persons merged away are only marked; their moves are left to
    the caller, after the lock (:attr:`Resolution.unsettled`)."""
    async with stores.stitching.held():
        return await stitch(stores, events, rules, now, settle=settle)


async def stitch(
    stores: Stores,
    events: Sequence[Event],
    rules: IdentityRules,
    now: datetime,
    first: Holdings | None = None,
    *,
    settle: bool = True,
) -> Resolution:
    """:func:`resolve_persons` for a caller that holds the stitching lock. ``first``:
    the holdings of the events' identifiers, read under the lock (a single event's
    caller reads them beside its duplicate check)."""
    if not events:
        return Resolution([])
    sightings = _sightings(events)
    resolution = Resolution(persons=[""] * len(events), sightings=sightings)
    created: set[str] = set()
    pending = list(range(len(events)))
    for _ in range(MAX_ROUNDS):
        keys = {key for index in pending for key in events[index].keys}
        batch = [events[i].identifiers for i in pending]
        known, owners, counts = await _owners(stores, keys, batch, first)
        first = None  # a later round reads what the claims it lost have changed
        plan = plan_batch(batch, owners, counts, rules, new_person_id)
        if plan.merges and rules.review_after_events > 0:
            # Merges of two persons with their own history wait for an agent unless a
            # trusted identifier proves them: plan again knowing who is established.
            involved = {m.absorbed for m in plan.merges} | {m.survivor for m in plan.merges}
            # The customer's own events make them established, not the platform's rows
            # (segment entries, written by a refresh whenever it runs).
            established = await stores.events.with_history(
                involved & set(owners.values()), rules.review_after_events, SEGMENT_EVENT_TYPES
            )
            if established:
                plan = plan_batch(
                    batch, owners, counts, rules, new_person_id, frozenset(established)
                )
        await stores.persons.create(plan.new_persons, now)
        created.update(plan.new_persons)
        lost = await stores.identifiers.claim(sightings, plan.claims)
        resolution.known.update(known)
        await stores.identifiers.move({move.key: move.to_person for move in plan.moves})
        resolution.merged_by.update(pending[merge.event_index] for merge in plan.merges)
        absorbed = await apply_merges(
            stores,
            [
                MergeRequest(
                    merge.absorbed,
                    merge.survivor,
                    event_id=events[pending[merge.event_index]].message_id,
                    reason="an event carried identifiers of both persons",
                )
                for merge in plan.merges
            ],
            now,
            settle=settle,
        )
        if not settle:
            resolution.unsettled |= absorbed
        links_of, conflicts_of = defaultdict(list), defaultdict(list)
        for link in plan.links:
            links_of[link.event_index].append(link)
        for conflict in plan.conflicts:
            conflicts_of[conflict.event_index].append(conflict)
        for position, index in enumerate(pending):
            resolution.persons[index] = plan.person_of_event[position]
            resolution.links[index] = links_of[position]
            resolution.conflicts[index] = conflicts_of[position]
        pending = [index for index in pending if lost.intersection(events[index].keys)]
        if not pending:
            used = set(resolution.persons) | {
                c.other for cs in resolution.conflicts.values() for c in cs
            }
            await _drop_unused(stores, created - used)
            resolution.created = created & used
            return resolution
    raise RuntimeError(f"identity resolution did not settle in {MAX_ROUNDS} rounds")


async def _owners(
    stores: Stores,
    keys: set[str],
    batch: Sequence[Sequence[Identifier]],
    read: Holdings | None = None,
) -> tuple[dict[str, Owned], dict[str, str], dict[str, dict[str, int]]]:
    """What is stored for each owned key, its live owner (a merge cut short on the way
    is finished), and what the live owners the plan of ``batch`` consults hold of each
    identifier type.

    A few keys (a single event's) are read in one joined command; a bulk batch's in
    three set-based reads, cheaper at that size (:mod:`cdp.store.profile_reads`), the
    counts only of the owners the plan can ask about (``holders_consulted``: a returning
    customer's event, all of whose identifiers are theirs, asks about nobody)."""
    counts: dict[str, dict[str, int]] | None = None  # None: still to read for the roots
    if len(keys) <= JOIN_AT_MOST:
        holdings = read if read is not None else await stores.identifiers.holdings(keys)
        known, merged = holdings.owned, holdings.merged
        roots = {owned.person_id: owned.person_id for owned in known.values()}
        if not merged:
            counts = holdings.counts
    else:
        known = await stores.identifiers.owners(keys)
        roots = await stores.persons.roots({owned.person_id for owned in known.values()})
        merged = {person for person, root in roots.items() if person != root}
    if merged:
        # A merged person that still owns identifiers is a merge cut short: finish it.
        roots.update(await settle_all(stores, merged))
    owners = {key: roots[owned.person_id] for key, owned in known.items()}
    if counts is None:
        counts = await stores.identifiers.counts(holders_consulted(batch, owners))
    return known, owners, counts


async def _drop_unused(stores: Stores, candidates: set[str]) -> None:
    """Remove persons created in a losing round that ended up owning nothing.

    Such a person lost every identifier it tried to claim to a concurrent writer; it has
    no events and nobody can reach it, so it is deleted rather than left as clutter.
    """
    if not candidates:
        return
    holders = await stores.identifiers.holders(candidates)
    await stores.persons.delete_empty(candidates - holders)


def _sightings(events: Sequence[Event]) -> dict[str, Sighting]:
    sightings: dict[str, Sighting] = {}
    for event in events:
        for identifier in event.identifiers:
            known = sightings.get(identifier.key)
            if known is None:
                sightings[identifier.key] = Sighting(identifier, event.timestamp, event.timestamp)
            else:
                sightings[identifier.key] = Sighting(
                    identifier,
                    min(known.first_seen, event.timestamp),
                    max(known.last_seen, event.timestamp),
                )
    return sightings
