"""Keeping profiles current just after a bulk of events lands: the refresh, coalesced.

``track`` stores a batch and answers; the persons it touched are marked pending in the
database first (``PersonStore.mark_pending``). A call that touched a few persons then
refreshes them before it answers (a support screen or a page asking for offers right
after the event sees them current); a bulk batch hands them to this instance's
``Refresher``, which refreshes them a moment later, many at a time, each person once
however many of its events arrived meanwhile. So ingest pays for storing events, not
for recomputing four hundred profiles per call, and a person is refreshed once per
burst rather than once per event.

A burst ends when no batch came for ``linger_seconds``, or ``lag_at_most_seconds``
after its first person was queued, whichever is first: a lone batch is refreshed half a
second after it landed, a bulk load of many batches a second every few seconds, each of
its persons once for all the batches in between. What lands while a round refreshes is
the next burst, gathered the same way (it was refreshed as soon as the round ended, so
a bulk load's rounds followed each other a round's length apart). Refreshed after a
fixed half second, a bulk load's persons were refreshed once every one or two batches:
``bench/track_throughput.py`` (20,000 events of 5,000 customers) made 18,900 person
refreshes, 14,450 to 14,850 with bursts, and the service and database spent 6 to 23%
less CPU a batch; with the rounds a lag apart, 14,170 (in process, against 14,806).

Nothing depends on the queue surviving: the mark is in the database, and the sweep
refreshes any person marked longer than ``stale_after`` ago (a crash, a lost queue,
another instance that died), so every person catches up within seconds. The same sweep
finishes events whose call died between storing them and writing what follows
(:func:`cdp.ingest.repair_unfinished`), when no client sends them again. Readers see
``pending_since`` while a person waits.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta

from cdp.tasks import cancel_and_wait

log = logging.getLogger("cdp.profile.refresher")

RefreshFn = Callable[[set[str], datetime], Awaitable[None]]
PendingFn = Callable[[datetime, int], Awaitable[list[str]]]
RepairFn = Callable[[datetime], Awaitable[set[str]]]  # events cut short before -> persons
Clock = Callable[[], datetime]


@dataclass(frozen=True, slots=True)
class RefreshPolicy:
    """When and how much to refresh (settings: ``CDP_REFRESH_*``)."""

    inline_persons: int = 20  # a call touching at most this many refreshes before answering
    batch: int = 2000  # persons per background refresh
    linger_seconds: float = 0.5  # a burst ends when no work came for this long
    lag_at_most_seconds: float = 3.0  # or this long after it began, work still coming
    stale_after_seconds: float = 10.0  # the sweep takes persons pending longer than this
    sweep_every_seconds: float = 5.0


class Refresher:
    """One per instance: a queue of persons to refresh, drained by a background task."""

    def __init__(
        self,
        refresh: RefreshFn,
        pending: PendingFn,
        clock: Clock,
        policy: RefreshPolicy | None = None,
        repair: RepairFn | None = None,
    ) -> None:
        self._refresh, self._pending, self._clock = refresh, pending, clock
        self._repair = repair
        self.policy = policy or RefreshPolicy()
        self._queue: set[str] = set()
        self._first_queued_at = 0.0  # (loop time) when the queue last became non-empty
        self._wake = asyncio.Event()
        self._more = asyncio.Event()  # work came while a burst gathers
        self._stopping = False
        self._idle = asyncio.Event()
        self._idle.set()
        self._task: asyncio.Task[None] | None = None
        self._last_sweep = 0.0

    def submit(self, person_ids: Iterable[str]) -> None:
        """Refresh these persons soon (they are already marked pending)."""
        before = len(self._queue)
        self._queue.update(person_ids)
        if len(self._queue) > before:
            if not before:
                self._first_queued_at = asyncio.get_running_loop().time()
            self._idle.clear()
            self._wake.set()
            self._more.set()

    def start(self) -> None:
        if self._task is None:
            self._stopping = False
            self._task = asyncio.create_task(self._run(), name="cdp-refresher")

    async def stop(self, drain_seconds: float = 10.0) -> None:
        """Refresh what is queued (for at most ``drain_seconds``), then stop. What is
        left stays marked pending in the database for the next start's sweep."""
        if self._task is None:
            return
        self._stopping = True  # what is queued is refreshed now, not after a burst's wait
        self._more.set()
        try:
            async with asyncio.timeout(drain_seconds):
                await self.drained()
        except TimeoutError:
            log.warning("stopping with %d persons still to refresh", len(self._queue))
        task, self._task = self._task, None
        await cancel_and_wait(task)

    async def drained(self) -> None:
        """Wait until every person submitted so far is refreshed."""
        await self._idle.wait()

    async def sweep(self) -> int:
        """Finish events whose call died longer than ``stale_after`` ago, and queue every
        person pending that long; how many persons were found."""
        cutoff = self._clock() - timedelta(seconds=self.policy.stale_after_seconds)
        repaired = await self._repair(cutoff) if self._repair is not None else set()
        found = {*repaired, *await self._pending(cutoff, self.policy.batch)}
        self.submit(found)
        return len(found)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            # asyncio.timeout, not wait_for: Python 3.11's wait_for returns the result when
            # the task is cancelled just as the wait ends (a submit set the wake while the
            # queue drained), so stop()'s cancel was lost and a stopping service hung.
            with suppress(TimeoutError):
                async with asyncio.timeout(self.policy.sweep_every_seconds):
                    await self._wake.wait()
            self._wake.clear()
            if loop.time() - self._last_sweep >= self.policy.sweep_every_seconds:
                self._last_sweep = loop.time()
                try:
                    await self.sweep()
                except Exception:
                    log.exception("the sweep for pending persons failed")
            if not self._queue:  # (woken by work that a round just took)
                self._idle.set()
                continue
            await self._gather_burst()
            # The round takes what the burst gathered; what lands while it runs is the
            # next burst's, gathered for its own lag (refreshing it as soon as the round
            # ended refreshed a bulk load's persons a round's length apart: three times
            # each instead of once every few seconds).
            due, self._queue = sorted(self._queue), set()
            for start in range(0, len(due), self.policy.batch):
                taken = set(due[start : start + self.policy.batch])
                try:
                    await self._refresh(taken, self._clock())
                except Exception:
                    log.exception("refreshing %d persons failed; the sweep will retry", len(taken))
            if not self._queue:
                self._idle.set()

    async def _gather_burst(self) -> None:
        """Wait until no work came for ``linger_seconds``, or ``lag_at_most_seconds``
        after the first person now queued was: none waits longer than that."""
        loop = asyncio.get_running_loop()
        ends = self._first_queued_at + self.policy.lag_at_most_seconds
        while (left := ends - loop.time()) > 0 and not self._stopping:
            self._more.clear()
            try:
                async with asyncio.timeout(min(self.policy.linger_seconds, left)):
                    await self._more.wait()
            except TimeoutError:
                return  # quiet for the linger, or the lag is up


def refresh_now(persons: int, policy: RefreshPolicy) -> bool:
    """Whether a call that touched this many persons refreshes them before it answers."""
    return persons <= policy.inline_persons
