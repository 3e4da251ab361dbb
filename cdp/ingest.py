"""The flow of a batch of events: validate, dedupe, stitch, store.

This module only awaits stores and calls pure functions (``cdp.events`` to validate,
``identity`` to decide). A batch costs a handful of round trips whatever its size: one
read of known message ids, one of identifier owners, one of persons, one bulk write per
collection, plus one round per merge.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cdp.errors import BadUserInput
from cdp.events import EventRejected, EventRules, parse_event
from cdp.merging import merge_persons, settle, settle_all
from cdp.models import Event, EventResult, EventStatus, TrackResult
from cdp.store import LinkProof, Sighting, Stores
from identity import new_person_id, plan_batch

MAX_RESOLUTION_ROUNDS = 25


@dataclass(frozen=True, slots=True)
class IngestLimits:
    rules: EventRules
    max_batch_size: int


def utc_now() -> datetime:
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


async def track(
    stores: Stores,
    raw_events: Sequence[Mapping[str, Any]],
    limits: IngestLimits,
    now: datetime | None = None,
) -> TrackResult:
    """Ingest a batch; every event gets a result, in the order sent.

    A duplicate (stored by an earlier call, sent twice in this batch, or stored by a
    concurrent call a moment before) is answered with the live person its event is on.
    """
    if len(raw_events) > limits.max_batch_size:
        raise BadUserInput(
            f"events: {len(raw_events)} events in one call; at most {limits.max_batch_size}. "
            "Split the batch."
        )
    now = now or utc_now()
    outcomes: list[Event | EventResult] = [_validate(raw, limits.rules, now) for raw in raw_events]
    unique: dict[str, Event] = {}  # first occurrence of each message id, in send order
    for outcome in outcomes:
        if isinstance(outcome, Event):
            unique.setdefault(outcome.message_id, outcome)
    stored_before = await stores.events.existing(unique)
    landed = await _store(stores, [e for i, e in unique.items() if i not in stored_before], now)
    persons = await settle_all(stores, {*stored_before.values(), *(p for p, _ in landed.values())})

    results: list[EventResult] = []
    first_sent: set[str] = set()
    for outcome in outcomes:
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
        results.append(EventResult(message_id, status, person_id=persons[person]))
    return TrackResult(results)


def _validate(raw: Mapping[str, Any], rules: EventRules, now: datetime) -> Event | EventResult:
    try:
        return parse_event(raw, rules, now)
    except EventRejected as rejection:
        return EventResult(
            message_id=_sent_message_id(raw),
            status=EventStatus.REJECTED,
            error=rejection.message,
            code=rejection.code,
            field=rejection.field,
        )


async def _store(
    stores: Stores, events: Sequence[Event], now: datetime
) -> dict[str, tuple[str, bool]]:
    """Stitch and store new events; map each message id to (person, lost a race)."""
    if not events:
        return {}
    persons, created = await resolve_persons(stores, events, now)
    documents = [
        _event_document(event, person, now) for event, person in zip(events, persons, strict=True)
    ]
    raced = await stores.events.insert(documents)
    stored = [(e, p) for e, p in zip(events, persons, strict=True) if e.message_id not in raced]
    await stores.persons.set_traits((p, e.traits, e.timestamp) for e, p in stored if e.traits)
    await stores.links.record(proof for e, _ in stored for proof in _link_proofs(e))
    born = set(persons).intersection(created)  # already carry updated_at = now
    await stores.persons.touch({p for _, p in stored} - born, now)
    return {e.message_id: (p, e.message_id in raced) for e, p in zip(events, persons, strict=True)}


async def resolve_persons(
    stores: Stores, events: Sequence[Event], now: datetime
) -> tuple[list[str], set[str]]:
    """Find or create the person of each event, merging where an event joins several.

    Returns each event's person and the persons this call created.

    Plans with what the database says now, then claims the unowned identifiers. A claim
    lost to a concurrent writer means the plan was made on stale facts, so the events
    carrying that identifier are planned again; every round makes progress because the
    lost identifiers now have owners.
    """
    sightings = _sightings(events)
    person_of: list[str] = [""] * len(events)
    created: set[str] = set()
    pending = list(range(len(events)))
    for _ in range(MAX_RESOLUTION_ROUNDS):
        keys = {key for index in pending for key in events[index].keys}
        known = await stores.identifiers.owners(keys)
        stored_owners = {key: owned.person_id for key, owned in known.items()}
        roots = await stores.persons.roots(set(stored_owners.values()))
        for person in sorted({p for p, root in roots.items() if p != root}):
            # A merged person that still owns identifiers is a merge cut short: finish it.
            roots[person] = await settle(stores, person)
        owners = {key: roots[person] for key, person in stored_owners.items()}
        plan = plan_batch([events[i].keys for i in pending], owners, new_person_id)
        await stores.persons.create(plan.new_persons, now)
        created.update(plan.new_persons)
        lost = await stores.identifiers.record({k: sightings[k] for k in keys}, plan.claims, known)
        for merge in plan.merges:
            await merge_persons(
                stores,
                merge.absorbed,
                merge.survivor,
                event_id=events[pending[merge.event_index]].message_id,
                reason="an event carried identifiers of both persons",
                now=now,
            )
        for position, index in enumerate(pending):
            person_of[index] = plan.person_of_event[position]
        pending = [index for index in pending if lost.intersection(events[index].keys)]
        if not pending:
            await _drop_unused(stores, created - set(person_of))
            return person_of, created & set(person_of)
    raise RuntimeError(f"identity resolution did not settle in {MAX_RESOLUTION_ROUNDS} rounds")


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


def _link_proofs(event: Event) -> list[LinkProof]:
    """A star from the event's first identifier: enough to say why the rest are linked."""
    first, *others = event.keys
    return [
        LinkProof(first, other, event.message_id, event.channel.value, event.timestamp)
        for other in others
    ]


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
