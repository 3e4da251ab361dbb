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

A write the ones after it depend on can be *guarded*: its update fails, instead of
changing nothing, when a condition on the document does not hold
(:func:`refused_unless`), and the failure stops the run as a duplicate key does. A
refresh's profile write is so guarded, the memberships it decided after it.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from pymongo import DeleteOne, InsertOne, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import ClientBulkWriteException

from cdp.store.database import DUPLICATE_KEY, Document

# built by the stores, which know the documents
Write = InsertOne[Document] | UpdateOne | DeleteOne
CLIENT_BULK_WRITE = 25  # the wire version of MongoDB 8.0, the first with bulkWrite
# The embedded server commits each write of the command on its own, where an
# insert_many commits its documents together: one command pays for a few writes only.
# Measured: an event, 1 to 3 identifier bounds and a mark, 1.1 to 1.35 ms in one command
# against 1.7 to 2.2 ms as separate commands; a membership and its entry 1.5 against
# 1.9 ms; five of each 3.2 against 2.2 ms; 400 of each 170 to 230 against 19 to 25 ms.
FEW_WRITES = 5
# ConversionFailure: what a guard raises (a string that is not a number, made an int)
GUARD_REFUSED = 241


def refused_unless(condition: Any) -> Document:
    """An aggregation expression that is nothing (a field set to it is not set) when
    ``condition`` holds for the document, and otherwise fails the update it is in: for a
    guarded write (:meth:`OrderedWrites.apply`). A failed update changes nothing; made
    an upsert, it fails as well where no document matches (its pipeline runs on the
    filter's ``_id`` alone), where a plain update would match nothing and not fail."""
    return {"$cond": [condition, "$$REMOVE", {"$toInt": "refused by its guard"}]}


@dataclass(frozen=True, slots=True)
class Applied:
    """What an ordered run of writes did: ``stopped_at`` is the index of an insert that
    met a duplicate key, or of a guarded write its guard refused (``refused``): it and
    every write after it were not applied; None when all were. ``matched`` says how many
    documents each update applied matched."""

    stopped_at: int | None
    matched: dict[int, int]
    refused: bool = False


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

    async def apply(self, writes: Sequence[Write], guarded: Collection[int] = ()) -> Applied:
        """Apply ``writes`` in order, one command (meant for at most ``FEW_WRITES``). A
        duplicate key stops the run there (what was before it stays written), as does
        the guard of a write whose index is in ``guarded`` (:func:`refused_unless`);
        any other failure is raised."""
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
                or any(not _stops(failure, guarded) for failure in failures)
            ):
                raise
            done = error.partial_result
            matched = (
                {i: r.matched_count for i, r in done.update_results.items()}
                if done is not None and done.has_verbose_results
                else {}
            )
            refused = failures[0].get("code") == GUARD_REFUSED
            return Applied(int(failures[0]["idx"]), matched, refused)
        return Applied(None, {i: r.matched_count for i, r in result.update_results.items()})


def _stops(failure: Document, guarded: Collection[int]) -> bool:
    """Whether a write's failure is one that ends a run as expected: a duplicate key, or
    a guard's refusal where a guard was put."""
    code = failure.get("code")
    return code == DUPLICATE_KEY or (code == GUARD_REFUSED and failure.get("idx") in guarded)
