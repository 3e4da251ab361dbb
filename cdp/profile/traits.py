"""Traits: for each trait the most recently set value wins.

The store applies the rule as events land and on merge (``cdp.store.persons``); this
module says, for the merge record, which values lost, so an agent can see and restore
them, and rebuilds a person's traits from their events when an unlink splits them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any


def replaced_values(
    survivor: Mapping[str, Any], absorbed: Mapping[str, Any]
) -> dict[str, dict[str, Any]]:
    """The values a merge of two person documents discards, by trait name.

    Each document has ``traits`` and ``trait_times``. A trait both hold with different
    values keeps the newer one (the survivor's on a tie); the other is returned with the
    time it was set and whose it was.
    """
    lost: dict[str, dict[str, Any]] = {}
    survivor_times: Mapping[str, datetime] = survivor.get("trait_times", {})
    absorbed_times: Mapping[str, datetime] = absorbed.get("trait_times", {})
    for name, theirs in absorbed.get("traits", {}).items():
        ours = survivor.get("traits", {}).get(name)
        if name not in survivor.get("traits", {}) or ours == theirs:
            continue
        ours_at, theirs_at = survivor_times.get(name), absorbed_times.get(name)
        absorbed_newer = theirs_at is not None and (ours_at is None or theirs_at > ours_at)
        loser, value, at = (
            (survivor["_id"], ours, ours_at)
            if absorbed_newer
            else (absorbed["_id"], theirs, theirs_at)
        )
        lost[name] = {"value": value, "set_at": at, "person_id": loser}
    return lost


def traits_from(
    sets: Iterable[tuple[datetime, str, Mapping[str, Any]]],
) -> tuple[dict[str, Any], dict[str, datetime]]:
    """The traits (and when each was set) that ``(time, event id, traits)`` leave, the
    latest value of each trait winning, as ingest would have applied them."""
    values: dict[str, Any] = {}
    times: dict[str, datetime] = {}
    for at, _, traits in sorted(sets, key=lambda item: (item[0], item[1])):
        for name, value in traits.items():
            values[name], times[name] = value, at
    return values, times
