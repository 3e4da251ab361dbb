"""Timeline paging rules, pure: filters, page sizes and opaque cursors.

Events are ordered newest first by ``(timestamp, id)``; the id breaks ties between events
of the same millisecond, so a cursor names one exact position and paging never skips or
repeats an event while new events keep arriving.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cdp.errors import BadUserInput
from cdp.models import Channel

MAX_PAGE_SIZE = 500


@dataclass(frozen=True, slots=True)
class Position:
    """Where a page ends: the last item's time and id (an event, a conflict, ...)."""

    timestamp: datetime
    id: str


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a newest-first list, and where it ends."""

    items: list[dict[str, Any]]
    has_next: bool
    end: Position | None

    @classmethod
    def cut(cls, found: list[dict[str, Any]], first: int, time_field: str) -> Page:
        """A page from ``first + 1`` items read: the extra one only says there is more."""
        items = found[:first]
        end = Position(items[-1][time_field], items[-1]["_id"]) if items else None
        return cls(items, len(found) > first, end)


@dataclass(frozen=True, slots=True)
class TimelineQuery:
    """A validated request for one page of a person's timeline."""

    first: int = 50
    after: Position | None = None
    channels: tuple[Channel, ...] = ()
    types: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None


def encode_cursor(position: Position) -> str:
    millis = int(position.timestamp.timestamp() * 1000)
    raw = json.dumps([millis, position.id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> Position:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        millis, item_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(millis, int) or not isinstance(item_id, str):
            raise ValueError
        return Position(datetime.fromtimestamp(millis / 1000, tz=UTC), item_id)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise BadUserInput(
            f"after: {cursor[:40]!r} is not a cursor this API gave out; pass a pageInfo.endCursor"
        ) from None


def page_size(first: int) -> int:
    """Check a page size argument (``first``) against the bounds every list shares."""
    if not 0 <= first <= MAX_PAGE_SIZE:
        raise BadUserInput(f"first: {first} is outside 0..{MAX_PAGE_SIZE}")
    return first


def build_query(
    *,
    first: int,
    after: str | None,
    channels: list[Channel] | None,
    types: list[str] | None,
    since: datetime | None,
    until: datetime | None,
) -> TimelineQuery:
    """Check the arguments of ``Person.timeline`` and turn them into a query."""
    page_size(first)
    since, until = _utc(since), _utc(until)
    if since and until and since > until:
        raise BadUserInput("since: must not be later than until")
    return TimelineQuery(
        first=first,
        after=decode_cursor(after) if after else None,
        channels=tuple(channels or ()),
        types=tuple(types or ()),
        since=since,
        until=until,
    )


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
