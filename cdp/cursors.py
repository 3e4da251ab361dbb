"""The one cursor codec: every paginated list hands out and takes back the same kind.

A cursor is the position after which the next page starts (a time and an id, a person
id, a rank), written as URL-safe base64 of a JSON list, so clients treat it as opaque
and the service can change what a list pages by without breaking them. Times travel as
epoch milliseconds (what MongoDB keeps). A cursor that does not decode to the shape the
list expects is refused with the same message everywhere.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime
from typing import Any

import orjson

from cdp.errors import BadUserInput

Part = str | int | datetime


def encode(*parts: Part) -> str:
    """An opaque cursor for a position made of ``parts``."""
    plain = [int(p.timestamp() * 1000) if isinstance(p, datetime) else p for p in parts]
    raw = orjson.dumps(plain)  # 50 cursors a timeline page: a tenth of json.dumps' cost
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str, *kinds: type[Part]) -> tuple[Any, ...]:
    """The position a cursor names, each part of the kind asked for, or BAD_USER_INPUT."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        plain = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(plain, list) or len(plain) != len(kinds):
            raise ValueError
        return tuple(_part(value, kind) for value, kind in zip(plain, kinds, strict=True))
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError, OverflowError):
        raise BadUserInput(
            f"after: {cursor[:40]!r} is not a cursor this API gave out; pass a pageInfo.endCursor"
        ) from None


def _part(value: object, kind: type[Part]) -> Part:
    if kind is datetime:
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    if kind is int:
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 2**31:
            raise ValueError
        return value
    if not isinstance(value, str):
        raise ValueError
    return value
