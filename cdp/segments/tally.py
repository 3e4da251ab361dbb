"""Counts of the events user rules count (``EventCount``), kept as events come: the part
of a person's fold (:mod:`cdp.profile.carried`) that rules read.

A rule such as "viewed a tent at least three times in the last 30 days" read the whole
history at every refresh; kept with the fold, it reads a count (no window) or the
matching events' times inside its window (sorted, forgotten once older than the window
and a day's margin, as the purchase windows are). Each counted leaf is known by its
signature (type, property conditions, window): two segments counting the same events
share a tally, and a rule the stored fold does not hold yet (a segment created since)
makes the refresh fold the whole history again.

Events of segment entries and exits are not counted here (a fold leaves them out): a
base with a rule counting them reads the history itself (:func:`carryable`).
"""

from __future__ import annotations

import json
from bisect import bisect_left, insort
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from cdp.metrics.instants import PRUNE_MARGIN, answers, micros, pack, pruned, unpack
from cdp.segments.changes import SEGMENT_EVENT_TYPES
from cdp.segments.evaluate import counts_event
from cdp.segments.rules import EventCount, Rule, conditions


def signature(rule: EventCount) -> str:
    """What the leaf counts, as text: the same events counted the same way, one tally."""
    return json.dumps([rule.type, [list(condition) for condition in rule.where], rule.within_days])


def counted_leaves(rules: Iterable[Rule]) -> dict[str, EventCount]:
    """The event counts these rules read, one per signature."""
    return {
        signature(leaf): leaf
        for rule in rules
        for leaf in conditions(rule)
        if isinstance(leaf, EventCount)
    }


def carryable(leaves: Mapping[str, EventCount]) -> bool:
    """Whether a fold can answer rules counting these leaves (:func:`counted_leaves`):
    none counts segment entries or exits."""
    return not any(leaf.type in SEGMENT_EVENT_TYPES for leaf in leaves.values())


@dataclass(slots=True)
class RuleTally:
    leaves: dict[str, EventCount]
    counts: dict[str, int] = field(default_factory=dict)  # leaves without a window
    # with one, sorted, in microseconds (cdp.metrics.instants)
    times: dict[str, list[int]] = field(default_factory=dict)
    pruned_at: datetime | None = None

    @classmethod
    def empty(cls, leaves: Mapping[str, EventCount]) -> RuleTally:
        tally = cls(dict(leaves))
        for key, leaf in leaves.items():
            if leaf.within_days:
                tally.times[key] = []
            else:
                tally.counts[key] = 0
        return tally

    def add(self, kind: str, at: datetime, properties: Mapping[str, Any]) -> None:
        for key, leaf in self.leaves.items():
            if not counts_event(leaf, kind, properties):
                continue
            if leaf.within_days:
                insort(self.times[key], micros(at))
            else:
                self.counts[key] += 1

    def prune(self, now: datetime) -> None:
        for key, leaf in self.leaves.items():
            if leaf.within_days:
                cut = now - timedelta(days=leaf.within_days) - PRUNE_MARGIN
                del self.times[key][: bisect_left(self.times[key], micros(cut))]
        self.pruned_at = pruned(self.pruned_at, now)

    def answers(self, now: datetime) -> bool:
        return answers(self.pruned_at, now)

    def count(self, rule: EventCount, now: datetime) -> int:
        """How many events the leaf counts at ``now``, as counting the history would."""
        key = signature(rule)
        since = rule.since(now)
        if since is None:
            return self.counts[key]
        times = self.times[key]
        return len(times) - bisect_left(times, micros(since))

    def to_document(self) -> dict[str, Any]:
        """Each leaf's signature with its count or times (pairs in a list: signatures are
        text a client wrote, which a field name may not hold)."""
        counted = [
            [key, pack(self.times[key]) if leaf.within_days else self.counts[key]]
            for key, leaf in self.leaves.items()
        ]
        return {"counted": counted, "pruned_at": self.pruned_at}

    @classmethod
    def from_document(
        cls, stored: Mapping[str, Any], leaves: Mapping[str, EventCount]
    ) -> RuleTally | None:
        """The stored tally of ``leaves``; None when it does not hold every one of them
        (a rule created since it was stored) or is not of this shape."""
        try:
            found = {str(key): value for key, value in stored["counted"]}
            pruned_at = stored["pruned_at"]
        except (KeyError, TypeError, ValueError):
            return None
        if pruned_at is not None and not isinstance(pruned_at, datetime):
            return None
        tally = cls(dict(leaves), pruned_at=pruned_at)
        for key, leaf in leaves.items():
            value = found.get(key)
            if leaf.within_days and isinstance(value, bytes) and len(value) % 8 == 0:
                tally.times[key] = unpack(value)
            elif not leaf.within_days and isinstance(value, int):
                tally.counts[key] = value
            else:
                return None
        return tally
