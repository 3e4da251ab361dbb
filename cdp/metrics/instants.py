"""Instants as whole microseconds since 1970 (UTC), and lists of them packed as bytes.

Why: a fold kept with a profile holds long lists of times (a heavy buyer's order times
of the last year, a trail's skus by when they were last seen, a rule's window), and it
is read and written with every event of its person. BSON turns each time into a
timezone-aware ``datetime`` when read: 1.2 ms for 2,000 of them, most of a fold's read.
Kept as integers and stored as one packed byte string, the same list reads in 0.02 ms.
Microseconds, not milliseconds, so any ``datetime`` converts exactly (stored events are
to the millisecond; a test's may not be).
"""

from __future__ import annotations

import sys
from array import array
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ONE = timedelta(microseconds=1)


def micros(at: datetime) -> int:
    """``at`` as microseconds since the epoch (exact)."""
    return (at - EPOCH) // ONE


def pack(values: Iterable[int]) -> bytes:
    """Integers as one byte string: 64 bits each, little-endian whatever the machine."""
    packed = array("q", values)
    if sys.byteorder == "big":
        packed.byteswap()
    return packed.tobytes()


def unpack(data: bytes) -> list[int]:
    """:func:`pack`'s integers back; ``ValueError`` for bytes that are not such a list."""
    values = array("q")
    values.frombytes(data)
    if sys.byteorder == "big":
        values.byteswap()
    return values.tolist()
