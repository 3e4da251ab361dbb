"""The fold kept with a profile (:mod:`cdp.metrics.fold`), and when it can be carried on.

A single event's refresh read its person's whole history to recompute the metrics (27 ms
for a customer with 1,000 events, 101 ms with 5,000); with the fold it reads the events
after the fold's key and adds them. Stored on the person as ``fold``: the tallies, the
key (time and id of the newest interaction folded) and ``floor``, which every pending
mark lowers to the oldest event it announces (``$min``), and ``changes``, the person's
change count when it was written. Written only by a guarded write that saw no other
change since its read (:meth:`PersonStore.marked_refresh_write`), so a fold never misses
an event marked before it; an event at or before the key landing later lowers the floor
to the key or below, and the fold is not carried on but folded again from the whole
history (and written anew). A fold whose ``changes`` is still the person's is *current*:
no event was announced since, so there are no events after its key to read (an event
stored whose mark is still to come is after the key, and its mark's floor sends the
next refresh to it, or before it, and the floor makes the next refresh fold anew).

The counts user rules read (:mod:`cdp.segments.tally`) are kept with it. Not carried on
(the caller reads the whole history): a fold of another version, a clock too far behind
the fold's last prune, a person others were merged into (their events are not in it), a
new event not after the key, a rule whose counts the fold does not hold yet, and a base
with a rule counting segment entries or exits (:func:`cdp.segments.tally.carryable`). A
correction moving events and an erasure scrubbing text drop folds
(:meth:`PersonStore.drop_folds`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cdp.metrics.fold import Folded
from cdp.metrics.profile import Interaction
from cdp.segments.changes import SEGMENT_EVENT_TYPES
from cdp.segments.rules import EventCount
from cdp.segments.tally import RuleTally

FOLD_FIELD = "fold"
Key = tuple[datetime, str]  # an event's (timestamp, id): the order a history is folded in


@dataclass(frozen=True, slots=True)
class Carried:
    """A stored fold that may be carried on, with the key of its newest event."""

    folded: Folded
    rules: RuleTally
    key: Key
    current: bool = False  # no change announced since it was stored: nothing after its key


@dataclass(frozen=True, slots=True)
class Fold:
    """A fold with new events in it: the metrics' tallies, the rules' counts, the key."""

    folded: Folded
    rules: RuleTally
    key: Key | None


def carried_of(
    person: Mapping[str, Any],
    now: datetime,
    first_new: Key,
    leaves: Mapping[str, EventCount],
) -> Carried | None:
    """The person's stored fold if the events from ``first_new`` (an event's time and
    id) on can be added to it and it holds the counts of every rule's ``leaves`` (see
    the module's note); None to fold the whole history instead."""
    stored = person.get(FOLD_FIELD)
    if not isinstance(stored, Mapping):
        return None
    key, floor = stored.get("key"), stored.get("floor")
    folded = Folded.from_document(stored)
    rules = RuleTally.from_document(stored.get("rules") or {}, leaves)
    if folded is None or rules is None or not isinstance(key, list) or len(key) != 2:
        return None
    at, event_id = key
    if not isinstance(at, datetime) or not isinstance(event_id, str):
        return None
    if isinstance(floor, datetime) and floor <= at:  # an event at or before the key since
        return None
    if first_new <= (at, event_id) or not folded.answers(now) or not rules.answers(now):
        return None
    written_at = stored.get("changes")
    current = isinstance(written_at, int) and written_at == int(person.get("changes", 0))
    return Carried(folded, rules, (at, event_id), current)


def fold_on(
    carried: Carried | None,
    events: Sequence[Mapping[str, Any]],
    now: datetime,
    leaves: Mapping[str, EventCount],
) -> Fold:
    """The fold with ``events`` (oldest first) added, pruned at ``now``: from ``carried``
    the events after its key, else every event from empty (counting ``leaves``). Segment
    entries and exits are not folded (they are about the person, not things they did)."""
    key = carried.key if carried else None
    folded = carried.folded if carried else Folded()
    rules = carried.rules if carried else RuleTally.empty(leaves)
    fresh = [
        event
        for event in events
        if event["type"] not in SEGMENT_EVENT_TYPES
        and (key is None or (event["timestamp"], event["_id"]) > key)
    ]
    for event in fresh:
        interaction = Interaction.of(event)
        folded.add(interaction)
        rules.add(interaction.type, interaction.timestamp, interaction.properties)
    folded.prune(now)
    rules.prune(now)
    if fresh:
        key = max(key or _key(fresh[0]), _key(fresh[-1]))
    return Fold(folded, rules, key)


def fold_document(fold: Fold) -> dict[str, Any] | None:
    """The fold as stored with the profile; None for a person with nothing folded yet."""
    if fold.key is None:
        return None
    return {**fold.folded.to_document(), "rules": fold.rules.to_document(), "key": list(fold.key)}


def _key(event: Mapping[str, Any]) -> Key:
    return (event["timestamp"], event["_id"])
