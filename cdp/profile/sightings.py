"""When each identifier was first and last seen, as the refresh finds it in the history.

An identifier's stored ``first_seen`` and ``last_seen`` say when it was claimed and, for
a single event, when that event saw it. A bulk batch does not write them: in a steady
load every document written is paid again when the server prunes its oplog, and a
returning customer's batch would rewrite most of its identifiers (620 of them for 500
events in the benchmark). The refresh reads each person's whole history anyway, so it
keeps each identifier's span there, on the profile (``identifiers_seen``), in the write
it makes in any case; a single event's refresh, which reads only the events since the
profile's fold, adds theirs to those kept (:func:`merged`), and readers widen the stored
bounds by them (:func:`widened`).

The profile lists identifier keys, which are personal data: an erasure takes the erased
person's keys off every profile that lists them (``PersonStore.forget_sightings``), so a
key that moved to another person before it was erased leaves no trace behind.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any


def sightings_of(events: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Each identifier key of ``events`` with the first and last time one carried it,
    sorted by key: the profile's ``identifiers_seen``."""
    return _joined(
        # stored normalised, {type, value}; the key as identity.Identifier.key
        (f"{carried['type']}:{carried['value']}", event["timestamp"], event["timestamp"])
        for event in events
        for carried in event.get("identifiers") or ()
    )


def merged(*lists: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Spans of several lists of sightings as one, each key's first the earliest and its
    last the latest: a single event's refresh reads the events since its fold, not the
    whole history, and adds their spans to those the profile kept."""
    return _joined(
        (seen["key"], seen["first"], seen["last"]) for sightings in lists for seen in sightings
    )


def _joined(spans: Iterable[tuple[str, datetime, datetime]]) -> list[dict[str, Any]]:
    """One span a key, the earliest first and the latest last of those given, by key."""
    joined: dict[str, tuple[datetime, datetime]] = {}
    for key, first, last in spans:
        known = joined.get(key)
        joined[key] = (
            (first, last) if known is None else (min(known[0], first), max(known[1], last))
        )
    return [{"key": key, "first": joined[key][0], "last": joined[key][1]} for key in sorted(joined)]


def widened(
    identifiers: Sequence[Mapping[str, Any]], sightings: Iterable[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Stored identifier documents with their first and last seen widened by the
    profile's ``sightings`` (a copy of each; a key the profile does not list is as stored)."""
    spans = {seen["key"]: seen for seen in sightings}
    out: list[dict[str, Any]] = []
    for doc in identifiers:
        seen = spans.get(doc["_id"])
        if seen is None:
            out.append(dict(doc))
            continue
        out.append(
            {
                **doc,
                "first_seen": min(doc["first_seen"], seen["first"]),
                "last_seen": max(doc["last_seen"], seen["last"]),
            }
        )
    return out
