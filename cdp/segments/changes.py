"""Entering and leaving segments: what changed for a person, and the timeline entry
that records it.

Timeline entries are events of the reserved types ``segment_entered`` and
``segment_left`` (integrations cannot send them), channel ``OTHER``. Their ids are made
of the segment, the person and the time the membership began, so a change recorded by
two writers at once is stored once. Metrics skip them: being put in a segment is not
something the person did.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

ENTERED = "segment_entered"
LEFT = "segment_left"
SEGMENT_EVENT_TYPES = frozenset({ENTERED, LEFT})


def entry_id(kind: str, segment_id: str, person_id: str, since: datetime) -> str:
    """A timeline entry's id: the same for every writer of the same change."""
    return f"{kind}:{segment_id}:{person_id}:{int(since.timestamp() * 1000)}"


def change_event(
    kind: str, segment_id: str, name: str, person_id: str, since: datetime, at: datetime
) -> dict[str, Any]:
    return {
        "_id": entry_id(kind, segment_id, person_id, since),
        "person_id": person_id,
        "type": kind,
        "channel": "OTHER",
        "timestamp": at,
        "received_at": at,
        "identifiers": [],
        "properties": {"segmentId": segment_id, "segmentName": name},
        "traits": {},
    }
