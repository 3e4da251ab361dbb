"""The time the service stamps things with: UTC, to the millisecond MongoDB keeps.

A function rather than ``datetime.now`` at each call site, so the composition root
(:mod:`cdp.bootstrap`) hands one clock to everything that stamps, and a test can hand
another.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """Now, cut to milliseconds: what is stored reads back equal to what was written."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)
