"""One stitcher at a time: the identity limits are decided on counts read under it.

Two calls stitching at once each read a person holding four emails and each add one
(the limit is five), or each merge a neighbour into the same survivor: twelve concurrent
calls carrying a chain of emails left one person with thirteen. Enforcing a limit per
person atomically would need a conditional write over several counters at once (a
transaction, which the embedded server does not survive under concurrency, see
docs/DECISIONS.md). So stitching (reading owners and counts, planning, claiming,
merging) runs one batch at a time, and each batch plans with what the previous one did.
Calls that arrive together are one batch anyway (:mod:`cdp.ingest_queue`), so this
costs little; storing events, traits and the refresh still run side by side.

- :class:`LocalLock` serialises one process: enough for the embedded database, which
  one service owns.
- :class:`DatabaseLock` serialises every instance sharing a MongoDB: a lease document
  taken with a conditional upsert (the unique ``_id`` arbitrates), released at the end,
  taken over when it expires (a crashed holder) or at once when its holder was a process
  on this machine that is gone.
"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Protocol

import psutil
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from cdp.store.database import Document

STITCHING = "stitching"


class StitchLock(Protocol):
    def held(self) -> AbstractAsyncContextManager[None]:
        """``async with lock.held():`` stitch."""
        ...

    def free(self) -> bool:
        """Whether taking it now neither waits nor writes: a call that may not need it
        (:func:`cdp.ingest.land`) takes it at once then, and otherwise reads first."""
        ...


class LocalLock:
    def __init__(self) -> None:
        self._lock = asyncio.Lock()

    @asynccontextmanager
    async def held(self) -> AsyncIterator[None]:
        async with self._lock:
            yield

    def free(self) -> bool:
        return not self._lock.locked()


class DatabaseLock:
    def __init__(
        self,
        db: AsyncDatabase[Document],
        lease_seconds: float = 30.0,
        poll_seconds: tuple[float, float] = (0.002, 0.05),
    ) -> None:
        self._collection = db["locks"]
        self._local = asyncio.Lock()  # this process's callers queue here, not in the database
        self._lease = timedelta(seconds=lease_seconds)
        self._poll = poll_seconds
        self._host = socket.gethostname()

    @asynccontextmanager
    async def held(self) -> AsyncIterator[None]:
        async with self._local:
            token = await self._acquire()
            try:
                yield
            finally:
                await self._collection.delete_one({"_id": STITCHING, "token": token})

    def free(self) -> bool:
        return False  # the lease is two synced writes, and another instance may hold it

    async def _acquire(self) -> str:
        token = uuid.uuid4().hex
        wait = self._poll[0]
        while True:
            now = datetime.now(UTC)
            until = now + self._lease
            taken = {"token": token, "host": self._host, "pid": os.getpid(), "until": until}
            try:
                await self._collection.find_one_and_update(
                    {"_id": STITCHING, "until": {"$lt": now}}, {"$set": taken}, upsert=True
                )
                return token
            except DuplicateKeyError:
                pass  # held: the upsert met the holder's document
            if await self._holder_is_gone(now):
                continue
            await asyncio.sleep(wait)
            wait = min(wait * 2, self._poll[1])

    async def _holder_is_gone(self, now: datetime) -> bool:
        """Expire the lease at once when its holder was a process on this machine that
        no longer runs (a ``kill -9``): the next start need not wait out the lease."""
        holder = await self._collection.find_one({"_id": STITCHING})
        if holder is None or holder.get("host") != self._host or psutil.pid_exists(holder["pid"]):
            return holder is None
        await self._collection.update_one(
            {"_id": STITCHING, "token": holder["token"]}, {"$set": {"until": now}}
        )
        return True
