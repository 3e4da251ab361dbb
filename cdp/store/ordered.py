"""Writes to several collections in one command, applied one after the other.

MongoDB 8 answers a ``bulkWrite`` that names several collections: the writes are applied
in the order given, and (ordered) the first that fails stops the ones after it. A single
event's call stored its event, widened its identifiers' first and last seen, then marked
its person pending, each a command of its own and the mark a round trip after the event
(a mark must follow the events it announces). Sent as one command they cost one round
trip, and the order still holds: the server applies the mark after the event. The same
holds for a landing opened before its event, and for a check (an update that changes
nothing, read for its matched count) that must come after the writes it checks.

Servers before MongoDB 8 (wire version 25) do not know the command; callers ask
:meth:`OrderedWrites.available` and keep their separate writes there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pymongo import InsertOne, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import ClientBulkWriteException

from cdp.store.database import DUPLICATE_KEY, Document

Write = InsertOne[Document] | UpdateOne  # built by the stores, which know the documents
CLIENT_BULK_WRITE = 25  # the wire version of MongoDB 8.0, the first with bulkWrite
# The embedded server commits each write of the command on its own, where an
# insert_many commits its documents together: one command pays for a few writes only.
# Measured: an event, 1 to 3 identifier bounds and a mark, 1.1 to 1.35 ms in one command
# against 1.7 to 2.2 ms as separate commands; a membership and its entry 1.5 against
# 1.9 ms; five of each 3.2 against 2.2 ms; 400 of each 170 to 230 against 19 to 25 ms.
FEW_WRITES = 5


@dataclass(frozen=True, slots=True)
class Applied:
    """What an ordered run of writes did: ``stopped_at`` is the index of an insert that
    met a duplicate key (it and every write after it were not applied), None when all
    were; ``matched`` says how many documents each update applied matched."""

    stopped_at: int | None
    matched: dict[int, int]


class OrderedWrites:
    def __init__(self, db: AsyncDatabase[Document], available: bool | None = None) -> None:
        """``available``: what :meth:`available` answers (None: ask the server)."""
        self._db = db
        self._available = available

    async def available(self) -> bool:
        """Whether the server takes several collections' writes in one command (asked
        once: the answer does not change while the client is connected)."""
        if self._available is None:
            hello = await self._db.command("hello")
            self._available = int(hello.get("maxWireVersion", 0)) >= CLIENT_BULK_WRITE
        return self._available

    async def apply(self, writes: Sequence[Write]) -> Applied:
        """Apply ``writes`` in order, one command (meant for at most ``FEW_WRITES``). A
        duplicate key stops the run there (what was before it stays written); any other
        failure is raised."""
        if not writes:
            return Applied(None, {})
        try:
            result = await self._db.client.bulk_write(
                list(writes), ordered=True, verbose_results=True
            )
        except ClientBulkWriteException as error:
            # each a document ({"idx", "code", ...}), whatever the type hints say
            failures: list[Document] = list(error.details.get("writeErrors") or [])
            if (
                error.error is not None
                or error.write_concern_errors
                or not failures
                or any(failure.get("code") != DUPLICATE_KEY for failure in failures)
            ):
                raise
            done = error.partial_result
            matched = (
                {i: r.matched_count for i, r in done.update_results.items()}
                if done is not None and done.has_verbose_results
                else {}
            )
            return Applied(int(failures[0]["idx"]), matched)
        return Applied(None, {i: r.matched_count for i, r in result.update_results.items()})
