"""Stopping a background task without losing a cancellation on the way.

``task.cancel()`` then ``await task`` under ``suppress(CancelledError)`` also swallows a
cancellation aimed at the caller (a shutdown deadline, a timeout around the stop): the
stop then returns while the task may still be running. This waits for the task and
passes the caller's own cancellation on.
"""

from __future__ import annotations

import asyncio
from typing import Any


async def cancel_and_wait(task: asyncio.Task[Any]) -> None:
    """Cancel ``task`` and wait until it has ended; re-raise if the caller is cancelled."""
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        current = asyncio.current_task()
        if current is not None and current.cancelling():
            raise  # the caller was cancelled, not (only) the task
