"""The fold kept with a profile (:mod:`cdp.metrics.fold`), and when it can be carried on.

A single event's refresh read its person's whole history to recompute the metrics (27 ms
for a customer with 1,000 events, 101 ms with 5,000); with the fold it reads the events
after the fold's key and adds them. Stored on the person as ``fold``: the tallies, the
key (time and id of the newest interaction folded) and ``floor``, which every pending
mark lowers to the oldest event it announces (``$min``). Written only by a guarded write
that saw no other change since its read (:meth:`PersonStore.marked_refresh_write`), so a
fold never misses an event marked before it; an event at or before the key landing later
lowers the floor to the key or below, and the fold is not carried on but folded again
from the whole history (and written anew).

Not carried on either (the caller reads the whole history): a fold of another version, a
clock too far behind the fold's last prune, a person others were merged into (their
events are not in it), a new event not after the key, and a base with rules that count
events (those read the history itself). A correction moving events and an erasure
scrubbing text drop folds (:meth:`PersonStore.drop_folds`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cdp.metrics.fold import Folded, fold_history
from cdp.metrics.profile import Interaction
from cdp.segments.changes import SEGMENT_EVENT_TYPES

FOLD_FIELD = "fold"
Key = tuple[datetime, str]  # an event's (timestamp, id): the order a history is folded in


@dataclass(frozen=True, slots=True)
class Carried:
    """A stored fold that may be carried on, with the key of its newest event."""

    folded: Folded
    key: Key


def carried_of(person: Mapping[str, Any], now: datetime, first_new: datetime) -> Carried | None:
    """The person's stored fold if the events from ``first_new`` on can be added to it
    (see the module's note); None to fold the whole history instead."""
    stored = person.get(FOLD_FIELD)
    if not isinstance(stored, Mapping):
        return None
    key, floor = stored.get("key"), stored.get("floor")
    folded = Folded.from_document(stored)
    if folded is None or not isinstance(key, list) or len(key) != 2:
        return None
    at, event_id = key
    if not isinstance(at, datetime) or not isinstance(event_id, str):
        return None
    if isinstance(floor, datetime) and floor <= at:  # an event at or before the key since
        return None
    if first_new <= at or not folded.answers(now):
        return None
    return Carried(folded, (at, event_id))


def fold_on(
    carried: Carried | None, events: Sequence[Mapping[str, Any]], now: datetime
) -> tuple[Folded, Key | None]:
    """The fold with ``events`` (oldest first) added, pruned at ``now``, and its new key:
    from ``carried`` the events after its key, else every event from empty. Segment
    entries and exits are not folded (they are about the person, not things they did)."""
    key = carried.key if carried else None
    fresh = [
        event
        for event in events
        if event["type"] not in SEGMENT_EVENT_TYPES
        and (key is None or (event["timestamp"], event["_id"]) > key)
    ]
    interactions = [
        Interaction(e["type"], e["channel"], e["timestamp"], e.get("properties") or {})
        for e in fresh
    ]
    if carried is None:
        folded = fold_history(interactions, now)
    else:
        folded = carried.folded
        for interaction in interactions:
            folded.add(interaction)
        folded.prune(now)
    if fresh:
        key = max(key or (fresh[0]["timestamp"], fresh[0]["_id"]), _key(fresh[-1]))
    return folded, key


def fold_document(folded: Folded, key: Key | None) -> dict[str, Any] | None:
    """The fold as stored with the profile; None for a person with nothing folded yet."""
    if key is None:
        return None
    return {**folded.to_document(), "key": list(key)}


def _key(event: Mapping[str, Any]) -> Key:
    return (event["timestamp"], event["_id"])
