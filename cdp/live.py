"""Live updates: one change stream per instance, fanned out to every subscriber.

A subscriber follows one person's *family* (the person and everyone merged into them);
the feed hands it each event that lands on any of them and each change of their
profiles. Someone merged into the family while it is followed joins it (their profile's
``merged_into`` names a member). One stream serves every subscriber of the instance, so
a thousand open consoles cost one cursor on the database, not a thousand; it starts
with the first subscriber and, after the database goes away, resumes from the last
change it read. When the database no longer holds that place (the oplog moved past it
while the feed was cut off or fell behind), the feed carries on from now and ends every
subscription with :class:`Missed`: a subscriber who stayed would wait for changes it
will never be sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from cdp.errors import ServiceUnavailable
from cdp.store.changes import Change, HistoryLost
from cdp.tasks import cancel_and_wait

__all__ = ["Change", "Follower", "Lagging", "LiveFeed", "Missed"]

log = logging.getLogger("cdp.live")

# Open a change stream from a resume token (None: from now); open when it returns.
Stream = Callable[[Any], Awaitable[AsyncIterator[Change]]]
BACKLOG = 10_000  # changes a subscriber may fall behind by before it is dropped
RETRY_SECONDS = 1.0
OPEN_SECONDS = 10.0  # how long a subscription waits for the stream to open


class Lagging(ServiceUnavailable):
    """A subscriber fell too far behind; it is closed and may subscribe again (a
    ``SERVICE_UNAVAILABLE`` error to its client, which retrying resolves)."""


class Missed(Lagging):
    """The feed lost its place in the database's history: changes were missed."""


@dataclass(eq=False)
class Follower:
    """One subscriber: the ids it follows and what arrived for it."""

    family: set[str]
    inbox: asyncio.Queue[Change | Lagging] = field(default_factory=lambda: asyncio.Queue(BACKLOG))

    async def next(self) -> Change:
        item = await self.inbox.get()
        if isinstance(item, Lagging):
            raise item
        return item

    def skip_waiting(self) -> None:
        """Forget the changes already waiting, for a caller about to read the state they
        led to (a burst of profile writes sent as one read); an end waiting among them
        is raised, as :meth:`next` would."""
        while not self.inbox.empty():
            item = self.inbox.get_nowait()
            if isinstance(item, Lagging):
                raise item

    def offer(self, change: Change) -> None:
        try:
            self.inbox.put_nowait(change)
        except asyncio.QueueFull:
            self.end(Lagging("this subscription fell behind; subscribe again"))

    def end(self, reason: Lagging) -> None:
        """Close the subscription with ``reason``, after what it holds already (a
        follower waiting on an empty inbox is woken by it)."""
        try:
            self.inbox.put_nowait(reason)
        except asyncio.QueueFull:  # a full inbox has nobody waiting on it
            self.inbox = asyncio.Queue(1)
            self.inbox.put_nowait(reason)


class LiveFeed:
    def __init__(self, stream: Stream) -> None:
        self._stream = stream
        self._followers: set[Follower] = set()
        self._task: asyncio.Task[None] | None = None
        self._token: Any = None
        self._ready = asyncio.Event()

    @contextlib.asynccontextmanager
    async def follow(self, family: Iterable[str]) -> AsyncIterator[Follower]:
        """Follow a family until the block ends; changes from the moment it is open."""
        follower = Follower(set(family))
        self._followers.add(follower)
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="cdp-live-feed")
        try:
            # The stream is open: nothing written from now on is missed.
            async with asyncio.timeout(OPEN_SECONDS):  # not wait_for: see Refresher._run
                await self._ready.wait()
        except TimeoutError:
            self._followers.discard(follower)
            raise ServiceUnavailable(
                "live updates need the database, which is not answering just now; "
                "subscribe again in a few seconds"
            ) from None
        try:
            yield follower
        finally:
            self._followers.discard(follower)

    async def stop(self) -> None:
        if self._task is not None:
            task, self._task = self._task, None
            await cancel_and_wait(task)

    def dispatch(self, change: Change) -> None:
        """Hand a change to everyone following a person it is about."""
        document = change.document or {}
        if change.collection == "events":
            about = {str(document.get("person_id"))}
        else:
            about = {change.id}
            parent = document.get("merged_into")
            for follower in self._followers:  # a merge into the family: they join it
                if parent in follower.family:
                    follower.family.add(change.id)
        for follower in self._followers:
            if about & follower.family:
                follower.offer(change)

    async def _run(self) -> None:
        while True:
            try:
                stream = await self._stream(self._token)
                self._ready.set()
                async for change in stream:
                    self._token = change.token
                    self.dispatch(change)
            except asyncio.CancelledError:
                raise
            except HistoryLost as lost:
                log.warning(
                    "the change stream cannot resume where it stopped (%s); "
                    "following from now, subscribers asked to subscribe again",
                    lost,
                )
                had_place, self._token = self._token is not None, None
                for follower in self._followers:
                    follower.end(
                        Missed(
                            "live updates missed some changes (the database no longer "
                            "holds the feed's place in its history); read the person "
                            "again and subscribe again"
                        )
                    )
                if had_place:  # from now, at once; a stream opened from now that says
                    continue  # so too waits like any other failure rather than spin
            except Exception:  # the database went away: resume where the stream was
                log.warning("the change stream stopped; resuming", exc_info=True)
            await asyncio.sleep(RETRY_SECONDS)
