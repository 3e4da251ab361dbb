"""What changed in the database, as it happens: one MongoDB change stream.

The live feed (:mod:`cdp.live`) reads events landing and profiles changing from here,
whichever instance wrote them, because every instance's change stream sees every write
(on the embedded server, a replica set and a sharded cluster alike). The resume token
of the last change read lets the feed carry on where it stopped after the database
restarts; when the oplog has moved past that place (:class:`HistoryLost`), it cannot.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import OperationFailure

from cdp.store.database import Document

# Events as they land (inserts: a merge moving old events is not news), every write of
# a profile.
WATCHED: list[Document] = [
    {"ns.coll": "events", "operationType": "insert"},
    # a delete too: an erasure ends the subscriptions following that person
    {"ns.coll": "persons", "operationType": {"$in": ["insert", "update", "replace", "delete"]}},
]


# The server's answers for a resume token it no longer holds: pruned from the oplog
# (ChangeStreamHistoryLost), not found in it (ChangeStreamFatalError), or not one of its
# own (InvalidResumeToken).
HISTORY_LOST_CODES = frozenset({286, 280, 260})


class HistoryLost(Exception):
    """The stream cannot carry on from the resume token given: the writes since then are
    gone from the oplog (the embedded server keeps the last 100,000 and fifteen minutes
    of them), so whoever followed it has missed changes."""


@dataclass(frozen=True, slots=True)
class Change:
    """One write: the collection, the document's id, the document as it is now (None
    when it is gone), and the resume token that follows."""

    collection: str
    id: str
    document: Document | None
    token: Any


async def changes(
    db: AsyncDatabase[Document], resume_after: Any = None
) -> AsyncGenerator[Change, None]:
    """Inserts of events, and writes and deletes of profiles (a deleted one without its
    document), from ``resume_after`` on (or from now). The stream is open when this
    returns: nothing written after is missed."""
    pipeline: list[Document] = [
        {"$match": {"$or": WATCHED}},
        # what the feed reads is the document as it is now; a profile's fold (the tallies
        # kept for its refresh, kilobytes) and the list of fields a write set are not
        {"$project": {"fullDocument.fold": 0, "updateDescription": 0}},
    ]
    try:
        stream = await db.watch(pipeline, full_document="updateLookup", resume_after=resume_after)
    except OperationFailure as error:
        raise _lost_or(error) from error

    async def read() -> AsyncGenerator[Change, None]:
        try:
            async for change in stream:
                key = change.get("documentKey") or {}
                yield Change(
                    collection=change["ns"]["coll"],
                    id=str(key.get("_id")),
                    document=change.get("fullDocument"),
                    token=stream.resume_token,
                )
        except OperationFailure as error:
            # the driver resumes by itself after a lost connection, from its last
            # token: that resume finds the history gone as an opening would
            raise _lost_or(error) from error
        finally:
            await stream.close()

    return read()


def _lost_or(error: OperationFailure) -> Exception:
    """:class:`HistoryLost` when ``error`` says the resume point is gone, else ``error``."""
    if error.code in HISTORY_LOST_CODES:
        return HistoryLost(str(error.details.get("errmsg") if error.details else error))
    return error
