"""The segment of one: after events land, each touched person's metrics are recomputed
from their own history and their memberships re-evaluated, in one pass.

This module fetches and writes; what the person is now is computed by the pure
:mod:`cdp.profile.compute`, and membership changes are written by
:mod:`cdp.segments.record`. Cost follows the touched persons' histories, never the base:
a handful of reads for the whole batch (profiles, histories, consents, identifier types,
base models, definitions, current memberships), then one write per collection. Persons
merged away lose their memberships quietly (they did not leave; they became part of
someone else).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cdp.metrics.base import load_base_models
from cdp.metrics.summary import BaseModels
from cdp.privacy.consent import Consent
from cdp.profile.carried import FOLD_FIELD, Carried
from cdp.profile.compute import Evaluation, evaluate_carried, evaluate_person
from cdp.profile.sightings import merged, sightings_of
from cdp.segments.definitions import SegmentDefinition
from cdp.segments.lookup import all_segments
from cdp.segments.record import Frame, Framed, missing_entries, record_changes, record_framed
from cdp.store import JOIN_AT_MOST, PersonRead, Stores
from cdp.store.database import Document
from cdp.store.events import oldest_events_first
from cdp.store.memberships import Held
from cdp.store.ordered import Write
from cdp.store.persons import SIGHTINGS_FIELD

READ_FIELDS = ("traits", "merged_into", "changes")  # what a refresh reads of a profile
# what a single event's refresh reads of it: its fold too (cdp.profile.carried), and the
# spans its identifiers had (cdp.profile.sightings), which it adds the new events' to
ALONE_READ_FIELDS = (*READ_FIELDS, FOLD_FIELD, SIGHTINGS_FIELD)
EVALUATED_AT_ONCE = 100  # persons evaluated between two turns of the event loop (5 to 7 ms)


async def refresh_persons(stores: Stores, person_ids: Iterable[str], now: datetime) -> None:
    """Refresh these persons (read now, after the writes whose marks they carry)."""
    computed = await compute_refresh(stores, person_ids, now)
    if computed is not None:
        await write_refresh(stores, computed, now)


@dataclass(frozen=True, slots=True)
class Computed:
    """What a refresh found for each live person, ready to write: kept apart from the
    write so that what a refresh read stays what it writes, however late it lands."""

    metrics: dict[str, dict[str, Any]]
    wanted: dict[str, set[str]]  # segment ids
    seen: dict[str, int]  # the change marks the metrics include
    held: dict[str, dict[str, Held]]  # memberships as read
    segments: list[SegmentDefinition]
    missing: set[tuple[str, str]]  # (segment, person): memberships whose entry is gone
    # read before the writes it follows: written with them, only if no other change came
    # since (write_marked_refresh)
    exact: frozenset[str] = frozenset()
    # an exact refresh's folds to store (None: nothing to fold), cdp.profile.carried
    folds: Mapping[str, Document | None] = field(default_factory=dict)
    # each identifier's span for the profile (cdp.profile.sightings): from the whole
    # history, or for an exact refresh those kept with the events it read added
    sightings: Mapping[str, list[dict[str, Any]]] = field(default_factory=dict)


async def compute_refresh(
    stores: Stores,
    person_ids: Iterable[str],
    now: datetime,
    before: Mapping[str, PersonRead] | None = None,
    carried: Mapping[str, Carried] | None = None,
) -> Computed | None:
    """Read the asked persons' live roots with their facts and compute what they are
    now; None when none of them is live.

    ``before``: the asked persons as a single event's call read them beside its
    stitching, with its event and its mark added (:func:`cdp.ingest.land`), before the
    event is written. They are true once it is, and only if no other change reached the
    persons since that read: such a refresh is ``exact``, written with the event's
    writes, only if the person's change count is still the one it read
    (:func:`write_marked_refresh`). Its fold is computed to be written with it: carried on
    from ``carried`` (the person's stored fold, its ``before`` events those after the
    fold's key), else from the whole history ``before`` holds."""
    asked = set(person_ids)
    if not asked:
        return None
    # A few persons (a single event's) come with their facts in one joined read; a bulk
    # batch's are read set-based below, cheaper at that size (cdp.store.profile_reads).
    read: dict[str, PersonRead] = {}
    exact: frozenset[str] = frozenset()
    if before and asked <= before.keys():
        read = {person: before[person] for person in asked}
        docs = {person: found.person for person, found in read.items()}
        exact = frozenset(asked)
    elif len(asked) <= JOIN_AT_MOST:
        read = await stores.profile_reads.persons_with_facts(asked, READ_FIELDS)
        docs = {person: found.person for person, found in read.items()}
    else:
        docs = await stores.persons.get_many(asked, READ_FIELDS)
    absorbed = {pid for pid, doc in docs.items() if doc.get("merged_into")}
    if absorbed:  # merged away since they were asked for: their survivors instead
        await stores.memberships.delete_of_persons(absorbed)
        roots = await stores.persons.roots(absorbed)
        docs.update(await stores.persons.get_many(set(roots.values()) - docs.keys(), READ_FIELDS))
    live = {pid: doc for pid, doc in docs.items() if not doc.get("merged_into")}
    if not live:
        return None
    models, every_segment = await asyncio.gather(load_base_models(stores), all_segments(stores))
    evaluation = Evaluation.decided_by_refresh(every_segment)
    segments = list(evaluation.definitions)
    # Persons nobody was merged into came with their consents and memberships; the
    # others' families are read here. Identifier types are read only when some rule asks
    # about them (none built in does). Independent reads go together: the database
    # answers them side by side.
    alone = {root: read[root] for root in live if root in read and not read[root].absorbed}
    # Histories are read after the persons (or joined to them), never beside them: a
    # person's ``changes`` says which pending marks these metrics include, and a mark is
    # written after its events, so only a history read after the person surely holds
    # every marked event.
    facts, held = await asyncio.gather(
        family_facts(
            stores,
            live,
            with_types=evaluation.needs_identifier_types,
            with_identifiers=True,
            known=alone,
        ),
        stores.memberships.of_persons(live.keys() - alone.keys()),
    )
    held.update({root: found.memberships for root, found in alone.items()})

    folds: dict[str, Document | None] = {}
    if any(c.rules.leaves.keys() != evaluation.counted.keys() for c in (carried or {}).values()):
        return None  # a rule created since the fold was read: the caller refreshes after
    sightings: dict[str, list[dict[str, Any]]] = {}
    if exact:  # a single event's person, whose fold is written with its refresh
        metrics, wanted = {}, {}
        for root, doc in live.items():
            # the events since the fold (the history when no fold), and the event
            sightings[root] = merged(
                doc.get(SIGHTINGS_FIELD) or (), sightings_of(facts.events[root])
            )
            metrics[root], wanted[root], folds[root] = evaluate_carried(
                doc.get("traits", {}),
                facts.events[root],
                (carried or {}).get(root),
                facts.consents[root],
                frozenset(facts.types[root]),
                models,
                evaluation,
                now,
            )
    else:
        metrics, wanted = await evaluate_in_slices(
            list(live.values()), facts, models, evaluation, now
        )
        sightings = {root: sightings_of(facts.events[root]) for root in live}
    seen = {root: int(doc.get("changes", 0)) for root, doc in live.items()}
    held_before = {root: held.get(root, {}) for root in live}
    missing = missing_entries(held_before, facts.events)
    return Computed(metrics, wanted, seen, held_before, segments, missing, exact, folds, sightings)


async def write_refresh(stores: Stores, computed: Computed, now: datetime) -> None:
    """Write the profiles (segments as decided, for the offers), then the membership
    changes of those whose profile this refresh wrote: a person a newer refresh reached
    first keeps what that one wrote. Not for an ``exact`` refresh, read before the writes
    it follows: that one goes with them (:func:`write_marked_refresh`)."""
    if computed.exact:
        raise ValueError("an exact refresh is written with its event (write_marked_refresh)")
    won = await stores.persons.set_refreshed(
        computed.metrics, computed.wanted, computed.seen, computed.sightings
    )
    # A person merged away while this ran must not keep the memberships and entries just
    # written: the merging call cleans up after its own mark, record_changes checks for a
    # write landing later (a read only when it wrote something: a single event that moved
    # no segment costs none).
    await record_changes(
        stores,
        {person: computed.held[person] for person in won},
        {person: computed.wanted[person] for person in won},
        computed.segments,
        now,
        {(segment, person) for segment, person in computed.missing if person in won},
    )


async def write_marked_refresh(
    stores: Stores,
    computed: Computed,
    person: str,
    now: datetime,
    lead: Sequence[Write],
    tail: Sequence[Write],
) -> Framed:
    """The refresh of a single event's person, computed before the event was written
    (``computed``: exact, its ``before`` the person as read with the event added), sent
    with the event's own writes: ``lead`` (its landing, the event, its identifiers'
    bounds), then the profile, marked and refreshed in one guarded write
    (:meth:`PersonStore.marked_refresh_write`), the membership changes, and ``tail``
    (its links, the landing closed), in one command where they fit. The mark and the
    refresh's profile were two writes in two commands, one after the other: the
    embedded server syncs each write to disk, and a command is a round trip."""
    profile = stores.persons.marked_refresh_write(
        person,
        computed.metrics[person],
        computed.wanted[person],
        computed.seen[person],
        now,
        computed.folds.get(person),
        computed.sightings.get(person),
    )
    return await record_framed(
        stores,
        {person: computed.held[person]},
        {person: computed.wanted[person]},
        computed.segments,
        now,
        {(segment, p) for segment, p in computed.missing if p == person},
        Frame([*lead, profile], tail),
    )


@dataclass(frozen=True, slots=True)
class FamilyFacts:
    """What the metrics and rules read of each live person, their whole family merged."""

    events: dict[str, list[Document]]  # oldest first
    consents: dict[str, list[Consent]]
    types: dict[str, set[str]]  # empty unless asked for


def evaluate_each(
    docs: Iterable[Document],
    facts: FamilyFacts,
    models: BaseModels,
    evaluation: Evaluation,
    now: datetime,
) -> tuple[dict[str, dict[str, Any]], dict[str, set[str]]]:
    """Each live person's metrics and segment ids, from their profile and their family's
    facts: what a refresh and the bulk recompute both compute."""
    metrics: dict[str, dict[str, Any]] = {}
    wanted: dict[str, set[str]] = {}
    for doc in docs:
        person = doc["_id"]
        metrics[person], wanted[person] = evaluate_person(
            doc.get("traits", {}),
            facts.events[person],
            facts.consents[person],
            frozenset(facts.types[person]),
            models,
            evaluation,
            now,
        )
    return metrics, wanted


async def evaluate_in_slices(
    docs: Sequence[Document],
    facts: FamilyFacts,
    models: BaseModels,
    evaluation: Evaluation,
    now: datetime,
) -> tuple[dict[str, dict[str, Any]], dict[str, set[str]]]:
    """:func:`evaluate_each`, ``EVALUATED_AT_ONCE`` persons at a time, letting the event
    loop run between slices: the refresher's gathered refresh of two thousand persons
    held the loop for 100 to 135 ms in one go, and every call waiting on it (a live
    event beside a bulk load, a profile read) waited as long."""
    metrics: dict[str, dict[str, Any]] = {}
    wanted: dict[str, set[str]] = {}
    for start in range(0, len(docs), EVALUATED_AT_ONCE):
        if start:
            await asyncio.sleep(0)
        done = evaluate_each(
            docs[start : start + EVALUATED_AT_ONCE], facts, models, evaluation, now
        )
        metrics.update(done[0])
        wanted.update(done[1])
    return metrics, wanted


async def family_facts(
    stores: Stores,
    roots: Iterable[str],
    *,
    with_types: bool,
    with_events: bool = True,
    with_identifiers: bool = False,
    known: Mapping[str, PersonRead] | None = None,
) -> FamilyFacts:
    """Events, consent decisions and (when asked) identifier types of live persons and
    everyone merged into them, a few reads for all of them at once; the events with the
    identifiers each carried when ``with_identifiers`` (a refresh's, for the profile's
    spans: cdp.profile.sightings). ``known``: persons
    already read with their consents (and their events, unless too many to join), whom
    nobody was merged into."""
    known = known or {}
    families = await stores.persons.absorbed_into_each(sorted(set(roots) - known.keys()))
    families.update({root: [] for root in known})
    root_of = {member: root for root, rest in families.items() for member in [root, *rest]}
    no_events: dict[str, list[Document]] = {}  # for a read not needed
    no_types: dict[str, dict[str, int]] = {}
    joined = {root: found.events for root, found in known.items() if found.events is not None}
    histories, decisions, counts = await asyncio.gather(
        stores.events.histories(root_of.keys() - joined.keys(), with_identifiers=with_identifiers)
        if with_events
        else asyncio.sleep(0, no_events),
        stores.consents.of_persons(root_of.keys() - known.keys()),
        stores.identifiers.counts(root_of) if with_types else asyncio.sleep(0, no_types),
    )
    decisions += [decision for found in known.values() for decision in found.consents]
    if with_events:
        histories.update({root: events for root, events in joined.items() if events})
    events: dict[str, list[Document]] = defaultdict(list)
    for member, docs in histories.items():
        events[root_of[member]] += docs
    for root, docs in events.items():
        events[root] = oldest_events_first(docs)  # a family's members' histories as one
    consents: dict[str, list[Consent]] = defaultdict(list)
    for decision in decisions:
        consents[root_of[decision["person_id"]]].append(Consent.from_document(decision))
    types: dict[str, set[str]] = defaultdict(set)
    for member, held in counts.items():
        types[root_of[member]].update(held)
    return FamilyFacts(events, consents, types)
