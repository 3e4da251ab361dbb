"""The segment of one: after events land, each touched person's metrics are recomputed
from their own history and their memberships re-evaluated, in Python, in one pass.

Cost follows the touched persons' histories, never the base: a handful of reads for the
whole batch (profiles, histories, consents, identifier types, base models, definitions,
current memberships), then one write per collection. Persons merged away lose their
memberships quietly (they did not leave; they became part of someone else).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from cdp.consent import Consent, marketing_channels
from cdp.metrics.base import load_base_models
from cdp.metrics.profile import Interaction
from cdp.metrics.summary import BaseModels, summarise_person
from cdp.segments.catalogue import all_segments
from cdp.segments.changes import ENTERED, LEFT, SEGMENT_EVENT_TYPES, change_event
from cdp.segments.definitions import (
    INTEREST_PREFIX,
    SegmentDefinition,
    SegmentKind,
    interest_segment,
)
from cdp.segments.evaluate import EventFacts, Predicate, Subject, predicate
from cdp.segments.rules import EventCount, HasIdentifier, conditions, rule_to_data
from cdp.store import Stores
from cdp.store.database import Document
from cdp.store.memberships import Held

READ_FIELDS = ("traits", "merged_into", "changes")  # what a refresh reads of a profile


async def refresh_persons(stores: Stores, person_ids: Iterable[str], now: datetime) -> None:
    asked = set(person_ids)
    if not asked:
        return
    docs = await stores.persons.get_many(asked, READ_FIELDS)
    absorbed = {pid for pid, doc in docs.items() if doc.get("merged_into")}
    if absorbed:  # merged away since they were asked for: their survivors instead
        await stores.memberships.delete_of_persons(absorbed)
        roots = await stores.persons.roots(absorbed)
        docs.update(await stores.persons.get_many(set(roots.values()) - docs.keys(), READ_FIELDS))
    live = {pid: doc for pid, doc in docs.items() if not doc.get("merged_into")}
    if not live:
        return
    models, every_segment = await asyncio.gather(load_base_models(stores), all_segments(stores))
    segments = [s for s in every_segment if s.kind is not SegmentKind.INTEREST]
    evaluation = Evaluation.of(segments)
    # Identifier types are read only when some rule asks about them (none built in does).
    # Independent reads go together: the database answers them side by side.
    facts, held = await asyncio.gather(
        family_facts(stores, live, with_types=evaluation.needs_identifier_types),
        stores.memberships.of_persons(live),
    )

    metrics: dict[str, dict[str, Any]] = {}
    wanted: dict[str, set[str]] = {}
    for root, doc in live.items():
        metrics[root], wanted[root] = evaluate_person(
            doc.get("traits", {}),
            facts.events[root],
            facts.consents[root],
            frozenset(facts.types[root]),
            models,
            evaluation,
            now,
        )
    await stores.persons.set_refreshed(  # segments as decided, for the offers
        metrics, wanted, {root: int(doc.get("changes", 0)) for root, doc in live.items()}
    )
    before = {root: held.get(root, {}) for root in live}
    changes = await record_changes(stores, before, wanted, segments, now, clean_up=False)
    # A person merged away while this ran must not keep what was just written: the
    # merging call cleans up after its own mark, this check covers a write landing later
    # (one read for the profiles and the memberships written).
    await _forget_merged(stores, live.keys(), changes.persons)


@dataclass(frozen=True, slots=True)
class FamilyFacts:
    """What the metrics and rules read of each live person, their whole family merged."""

    events: dict[str, list[Document]]  # oldest first
    consents: dict[str, list[Consent]]
    types: dict[str, set[str]]  # empty unless asked for


async def family_facts(
    stores: Stores, roots: Iterable[str], *, with_types: bool, with_events: bool = True
) -> FamilyFacts:
    """Events, consent decisions and (when asked) identifier types of live persons and
    everyone merged into them, a few reads for all of them at once."""
    families = await stores.persons.absorbed_into_each(sorted(roots))
    root_of = {member: root for root, rest in families.items() for member in [root, *rest]}
    no_events: dict[str, list[Document]] = {}  # for a read not needed
    no_types: dict[str, dict[str, int]] = {}
    histories, decisions, counts = await asyncio.gather(
        stores.events.histories(root_of) if with_events else asyncio.sleep(0, no_events),
        stores.consents.of_persons(root_of),
        stores.identifiers.counts(root_of) if with_types else asyncio.sleep(0, no_types),
    )
    events: dict[str, list[Document]] = defaultdict(list)
    for member, docs in histories.items():
        events[root_of[member]] += docs
    for docs in events.values():
        docs.sort(key=lambda e: (e["timestamp"], e["_id"]))
    consents: dict[str, list[Consent]] = defaultdict(list)
    for decision in decisions:
        consents[root_of[decision["person_id"]]].append(Consent.from_document(decision))
    types: dict[str, set[str]] = defaultdict(set)
    for member, held in counts.items():
        types[root_of[member]].update(held)
    return FamilyFacts(events, consents, types)


@dataclass(frozen=True, slots=True)
class Evaluation:
    """The segments a refresh decides, compiled once for every person it covers, and
    what their rules read beyond metrics and traits."""

    segments: tuple[tuple[str, Predicate], ...]
    needs_events: bool
    needs_identifier_types: bool
    definitions: tuple[SegmentDefinition, ...] = ()

    @classmethod
    def of(cls, segments: Sequence[SegmentDefinition]) -> Evaluation:
        leaves = [leaf for segment in segments for leaf in conditions(segment.rule)]
        return cls(
            definitions=tuple(segments),
            segments=tuple((segment.id, predicate(segment.rule)) for segment in segments),
            needs_events=any(isinstance(leaf, EventCount) for leaf in leaves),
            needs_identifier_types=any(isinstance(leaf, HasIdentifier) for leaf in leaves),
        )


def evaluate_person(
    traits: Mapping[str, Any],
    events: Sequence[Document],
    consents: Sequence[Consent],
    identifier_types: frozenset[str],
    models: BaseModels,
    evaluation: Evaluation,
    now: datetime,
) -> tuple[dict[str, Any], set[str]]:
    """A person's metrics and the segments they belong in (pure; the bulk path uses it)."""
    metrics = summarise_person(
        interactions(events), traits, marketing_channels(consents), models, now
    )
    return metrics, evaluate_segments(traits, metrics, events, identifier_types, evaluation, now)


def evaluate_segments(
    traits: Mapping[str, Any],
    metrics: Mapping[str, Any],
    events: Sequence[Document],
    identifier_types: frozenset[str],
    evaluation: Evaluation,
    now: datetime,
) -> set[str]:
    """The segments a person with these metrics belongs in, interest ones included."""
    subject = Subject(
        traits=traits,
        metrics=metrics,
        identifier_types=identifier_types,
        events=[EventFacts(e["type"], e["timestamp"], e.get("properties") or {}) for e in events]
        if evaluation.needs_events
        else [],
    )
    inside = {segment for segment, fits in evaluation.segments if fits(subject, now)}
    inside.update(f"{INTEREST_PREFIX}{topic}" for topic in metrics.get("interest_topics") or [])
    return inside


def interactions(events: Sequence[Document]) -> list[Interaction]:
    """What the metrics read of a person's events (their segment entries and exits left
    out: those are about the person, not things they did)."""
    return [
        Interaction(e["type"], e["channel"], e["timestamp"], e.get("properties") or {})
        for e in events
        if e["type"] not in SEGMENT_EVENT_TYPES
    ]


class Changes(NamedTuple):
    """What :func:`record_changes` wrote."""

    entered: int
    left: int
    persons: set[str]


async def record_changes(
    stores: Stores,
    before: Mapping[str, Mapping[str, Held]],
    after: Mapping[str, set[str]],
    segments: Sequence[SegmentDefinition],
    now: datetime,
    *,
    clean_up: bool = True,
) -> Changes:
    """Write memberships that began or ended, each with its timeline entry; returns
    (entered, left) as counted by this writer, and the persons it wrote for.

    Order makes it safe to cut anywhere and run again: a membership is inserted
    unrecorded, its entry written (id from the time it began, so a repeat is one entry),
    then it is flagged recorded; a leaving is written to the timeline before the
    membership is deleted.
    """
    names = {segment.id: segment.name for segment in segments}
    entering: list[tuple[str, str]] = []
    unrecorded: list[tuple[str, str, datetime]] = []
    leaving: list[tuple[str, str, datetime]] = []
    for person, segments_now in after.items():
        held = before.get(person, {})
        entering += [(s, person) for s in sorted(segments_now - held.keys())]
        unrecorded += [(s, person, h.entered_at) for s, h in sorted(held.items()) if not h.recorded]
        leaving += [
            (s, person, h.entered_at)
            for s, h in sorted(held.items())
            if s not in segments_now and (s in names or s.startswith(INTEREST_PREFIX))
        ]
    topics = {s[len(INTEREST_PREFIX) :] for s, _ in entering if s.startswith(INTEREST_PREFIX)}
    if topics:
        await stores.segments.add_interests(interest_document(t, now) for t in sorted(topics))
    added = await stores.memberships.enter(entering, now)
    unrecorded += [(s, p, now) for s, p in added]

    def name(segment: str) -> str:
        return names.get(segment) or interest_segment(segment[len(INTEREST_PREFIX) :]).name

    await stores.events.insert(
        [change_event(ENTERED, s, name(s), p, since, since) for s, p, since in unrecorded]
    )
    await stores.memberships.mark_recorded((s, p) for s, p, _ in unrecorded)
    await stores.events.insert(
        [change_event(LEFT, s, name(s), p, since, now) for s, p, since in leaving]
    )
    await stores.memberships.leave((s, p) for s, p, _ in leaving)
    wrote_for = {p for _, p, _ in unrecorded + leaving}
    if clean_up:  # else the caller checks, with a read it makes anyway
        await _clean_up_after_merges(stores, wrote_for)
    return Changes(len(added), len(leaving), wrote_for)


async def _clean_up_after_merges(stores: Stores, wrote_for: set[str]) -> None:
    """A person merged away while this refresh ran must not keep what it just wrote.

    The merge drops an absorbed person's memberships and their timeline entries; a
    refresh that began before the merge may write them after it. Checked after the
    writes, so whichever of the two finishes last cleans up (a merge marked after this
    check is the merge's to clean).
    """
    if not wrote_for:
        return
    parent = await stores.persons.parents(wrote_for)
    gone = {person for person in wrote_for if parent.get(person, person) != person}
    if gone:
        await stores.memberships.delete_of_persons(sorted(gone))
        await stores.events.delete_of_types(gone, SEGMENT_EVENT_TYPES)


async def _forget_merged(stores: Stores, refreshed: Iterable[str], wrote_for: set[str]) -> None:
    """Drop what this refresh wrote for persons merged away while it ran (memberships of
    every refreshed person, timeline entries of those it wrote entries for)."""
    parent = await stores.persons.parents(refreshed)
    gone = sorted(person for person, above in parent.items() if above != person)
    if gone:
        await stores.memberships.delete_of_persons(gone)
        entries = wrote_for.intersection(gone)
        if entries:
            await stores.events.delete_of_types(entries, SEGMENT_EVENT_TYPES)


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
