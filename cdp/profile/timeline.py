"""Timeline paging rules, pure: filters, page sizes and opaque cursors.

Events are ordered newest first by ``(timestamp, id)``; the id breaks ties between events
of the same millisecond, so a cursor names one exact position and paging never skips or
repeats an event while new events keep arriving.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cdp import cursors
from cdp.errors import BadUserInput
from cdp.records import Channel

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
    exclude_types: tuple[str, ...] = ()  # the customer's own lane leaves the platform's out
    since: datetime | None = None
    until: datetime | None = None


def encode_cursor(position: Position) -> str:
    return cursors.encode(position.timestamp, position.id)


def decode_cursor(cursor: str) -> Position:
    timestamp, item_id = cursors.decode(cursor, datetime, str)
    return Position(timestamp, item_id)


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
    exclude_types: list[str] | None = None,
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
        exclude_types=tuple(exclude_types or ()),
        since=since,
        until=until,
    )


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
