"""Watching the event loop from a test: how often a call waiting on it got to run."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress


@asynccontextmanager
async def a_call_waiting() -> AsyncIterator[Callable[[], int]]:
    """Another call on the loop, taking a turn whenever it is let: the block gets how
    many turns it has had since the block began (none, for work that never yields)."""
    turns = 0

    async def waiting() -> None:
        nonlocal turns
        while True:
            turns += 1
            await asyncio.sleep(0)

    other = asyncio.create_task(waiting())
    await asyncio.sleep(0)
    began = turns
    try:
        yield lambda: turns - began
    finally:
        other.cancel()
        with suppress(asyncio.CancelledError):
            await other
