"""Connecting to MongoDB and the indexes every collection needs."""

from __future__ import annotations

import asyncio
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from typing import Any, TypeVar

from pymongo import ASCENDING, DESCENDING, AsyncMongoClient, monitoring
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, ConnectionFailure, OperationFailure, PyMongoError

Document = dict[str, Any]
Database = AsyncDatabase[Document]  # for modules outside the store, which never import pymongo
CommandListener = monitoring._EventListener  # what tests and benchmarks watch commands with
DUPLICATE_KEY = 11000  # MongoDB's error code for a unique index violation
T = TypeVar("T")
R = TypeVar("R")

# An $in list of a write is bounded only so that one command stays far below MongoDB's
# 16 MB limit (10,000 ids of ~40 bytes are ~400 KB): fewer commands are fewer commits.
IN_CHUNK = 10_000
# An $in list of a read is cut into lists of 200: the embedded Rust server checks each
# document it fetches against the whole list, so a read costs it (documents found) x
# (ids asked). Measured there, 2,000 persons' histories (7,500 events): 147 ms of its
# CPU in one read, 69 ms in reads of 500, 44 to 64 ms in reads of 100 to 200; the 2,000
# persons themselves 42 against 10 to 12 ms. Lists of 100 and of 200 measured alike over
# HTTP; 200 sends half the commands. (The Python server needed lists of 50, worse.)
READ_CHUNK = 200
# A find's first reply holds 101 documents unless told otherwise, and each further batch
# is another round trip (a getMore): an ``$in`` read of a batch's 450 persons took five.
# Reads whose answer is bounded by the ids they name ask for all of it at once (a reply
# still stops at 16 MiB; the rest follows in getMores, as before).
WHOLE_ANSWER = 100_000


def chunked(values: Iterable[T], size: int = IN_CHUNK) -> Iterator[list[T]]:
    """``values`` in lists of at most ``size``, for ``$in`` filters."""
    chunk: list[T] = []
    for value in values:
        chunk.append(value)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


async def find_in(
    collection: AsyncCollection[Document],
    field: str,
    values: Iterable[Any],
    projection: Mapping[str, Any] | None = None,
) -> AsyncIterator[Document]:
    """The documents whose ``field`` is one of ``values``: ``$in`` reads of at most
    ``READ_CHUNK`` values, each asking for its whole answer in the first reply
    (``WHOLE_ANSWER``); none for no values."""
    for chunk in chunked(values, READ_CHUNK):
        cursor = collection.find({field: {"$in": chunk}}, projection, batch_size=WHOLE_ANSWER)
        async for doc in cursor:
            yield doc


async def read_in_chunks(
    values: Iterable[T], read: Callable[[list[T]], Awaitable[list[R]]]
) -> list[R]:
    """What ``read`` answers for each ``READ_CHUNK`` of ``values``, in their order (for
    reads :func:`find_in` does not cover: aggregations, ``distinct``).

    One read after the other: sent side by side they overlapped their round trips but
    cost the server more (the ingest benchmark's database CPU a batch 181 to 184 ms
    against 155 to 165 ms) and, in a bulk recompute of 100,000 persons, 30% more memory
    (1,645 to 1,873 MiB against 1,284 MiB at the end)."""
    found: list[R] = []
    for chunk in chunked(values, READ_CHUNK):
        found += await read(chunk)
    return found


async def insert_unless_present(
    collection: AsyncCollection[Document], documents: list[Document]
) -> set[Any]:
    """Insert documents whose ``_id`` is new; return the ``_id``s that were already taken.

    The unique ``_id`` is how concurrent writers agree on who stored something first, so
    a duplicate key is an answer, not an error; any other write error is raised.
    """
    if not documents:
        return set()
    try:
        await collection.insert_many(documents, ordered=False)
    except BulkWriteError as error:
        errors = error.details["writeErrors"]
        if any(entry["code"] != DUPLICATE_KEY for entry in errors):
            raise
        return {documents[entry["index"]]["_id"] for entry in errors}
    return set()


async def insert_fresh(collection: AsyncCollection[Document], documents: list[Document]) -> None:
    """Insert documents whose ``_id`` was just made (random, or a new person's id).

    Such an id can collide only with this very write applied twice: when the server
    restarts between storing a write and answering it, PyMongo sends the write again
    (a retryable write), and a restarted embedded server does not remember the first
    attempt, so the second finds the ``_id`` taken. That duplicate is success.
    """
    await insert_unless_present(collection, documents)


# Server answers that mean "shutting down or restarting; try again", not a bad request.
_SHUTTING_DOWN = frozenset({91, 189, 11600, 11602})


def unavailable(error: BaseException | None) -> bool:
    """Whether ``error`` says the database is away (down, restarting, unreachable): the
    caller should retry later, nothing is wrong with the request or the code."""
    if isinstance(error, ConnectionFailure):
        return True
    return isinstance(error, OperationFailure) and error.code in _SHUTTING_DOWN


# Documents per command that gives each its own values ($switch or a keyed object): each
# document looks its values up among the command's, so the cost grows with their square.
# Measured on the embedded server (a batch's refresh of 450 profiles): one command of 500
# cost 67 ms of its CPU, commands of 100 cost 44 ms; of 50, no less than of 100.
EACH_CHUNK = 100


def lookup(collection: str, local: str, foreign: str, into: str) -> Document:
    """A ``$lookup`` stage: the documents of ``collection`` whose ``foreign`` field equals
    this document's ``local`` field, as the array ``into``.

    Only this plain form: the embedded Rust server answers it by index, while a
    ``$lookup`` with a sub-pipeline ignores the pipeline and scans the collection."""
    join = {"from": collection, "localField": local, "foreignField": foreign, "as": into}
    return {"$lookup": join}


def per_document(values: Mapping[str, Any], key: str = "$_id") -> Document:
    """An expression worth ``values[<key of the document being updated>]``: how one
    update command gives each document its own value. Missing when the key is not in
    ``values``.

    A lookup in one literal object (``$getField``) rather than a ``$switch`` with a
    branch per document: for 450 small values 21 ms against 45 ms on the embedded
    server. Keys are ids (``_id`` or ``person_id``), which never start with ``$``.
    """
    return {"$getField": {"field": key, "input": {"$literal": dict(values)}}}


def per_document_switch(values: Mapping[str, Any], default: Any) -> Document:
    """Like :func:`per_document`, as a ``$switch``: for large values (a metrics document
    each) the embedded server is many times faster this way than with one big object."""
    branches = [
        {"case": {"$eq": ["$_id", key]}, "then": {"$literal": value}}
        for key, value in values.items()
    ]
    return {"$switch": {"branches": branches, "default": default}}


async def update_each(
    collection: AsyncCollection[Document],
    values: Mapping[Any, Mapping[str, Any]],
    *,
    keep: str = "set",
) -> None:
    """Give each document (by ``_id``) its own values of some fields, in one command.

    ``keep`` is ``set`` (replace), ``max`` or ``min`` (keep the larger or smaller of the
    stored and the new value). Why one ``update_many`` with a pipeline rather than one
    ``UpdateOne`` each: the embedded server commits (and syncs its log) per document of
    a bulk write, so 450 separate updates cost about 120 ms where one command costs 33.
    Every document must name the same fields.
    """
    items = list(values.items())
    for start in range(0, len(items), EACH_CHUNK):
        chunk = dict(items[start : start + EACH_CHUNK])
        fields = list(next(iter(chunk.values())))
        assignments: Document = {}
        for field in fields:
            new = per_document({key: doc[field] for key, doc in chunk.items()})
            assignments[field] = new if keep == "set" else {f"${keep}": [f"${field}", new]}
        await collection.update_many({"_id": {"$in": list(chunk)}}, [{"$set": assignments}])


async def repoint(
    collection: AsyncCollection[Document],
    moves: Mapping[str, str],
    keep_types: Sequence[str] = (),
) -> None:
    """Move every document of each person in ``moves`` to the person it maps to, in one
    command (one commit on the embedded server, not one per person); documents whose
    ``type`` is in ``keep_types`` stay where they are (decided in the pipeline: a filter
    on the type would make the embedded server scan the collection)."""
    for chunk in chunked(sorted(moves)):
        target: Any = per_document({p: moves[p] for p in chunk}, "$person_id")
        if keep_types:
            target = {"$cond": [{"$in": ["$type", list(keep_types)]}, "$person_id", target]}
        await collection.update_many(
            {"person_id": {"$in": chunk}}, [{"$set": {"person_id": target}}]
        )


def connect(
    uri: str, event_listeners: Sequence[monitoring._EventListener] = ()
) -> AsyncMongoClient[Document]:
    """Open a client that returns timezone-aware UTC datetimes.

    Call it on the running event loop (the app's lifespan does): PyMongo's async client
    binds to the loop it first runs on.

    Aware datetimes come in BSON's own UTC (``bson.tz_util.utc``): they compare, hash,
    print and encode exactly as ones in ``datetime.UTC``. Naming ``tzinfo=UTC`` here
    would make the decoder call ``astimezone`` on every datetime it reads: twice the
    decoding time of an event (measured: 297 against 153 us for a page of 50), paid on
    every timeline page and every history a refresh reads.
    """
    return AsyncMongoClient(
        uri,
        tz_aware=True,
        uuidRepresentation="standard",
        serverSelectionTimeoutMS=10_000,
        heartbeatFrequencyMS=1_000,  # notice a restarted database within a second
        event_listeners=list(event_listeners),
    )


async def ensure_indexes(db: AsyncDatabase[Document]) -> None:
    """Create the indexes the queries rely on; safe to run at every start."""
    await db["identifiers"].create_index([("person_id", ASCENDING)])
    await db["persons"].create_index([("merged_into", ASCENDING)], sparse=True)
    # "This id, if still live": the embedded Rust server's planner scans the whole
    # collection for {_id: x, merged_into: null} unless an index starts with both
    # (MongoDB would use _id alone; the extra index costs it little).
    await db["persons"].create_index([("_id", ASCENDING), ("merged_into", ASCENDING)])
    await db["persons"].create_index([("pending_since", ASCENDING)], sparse=True)
    await db["persons"].create_index([("unclaimed", ASCENDING)], sparse=True)  # the repair
    await db["events"].create_index(
        [("person_id", ASCENDING), ("timestamp", DESCENDING), ("_id", DESCENDING)]
    )
    await db["links"].create_index([("a", ASCENDING)])
    await db["links"].create_index([("b", ASCENDING)])
    await db["merges"].create_index([("survivor", ASCENDING), ("at", DESCENDING)])
    await db["merges"].create_index([("absorbed", ASCENDING)])
    await db["merges"].create_index([("created", ASCENDING)])  # erasure finds unlinks by it
    await db["merges"].create_index([("identifiers", ASCENDING)])  # erasure scrubs by it
    await db["conflicts"].create_index([("at", DESCENDING), ("_id", DESCENDING)])
    await db["api_keys"].create_index([("hash", ASCENDING)], unique=True)
    await db["consents"].create_index([("person_id", ASCENDING), ("at", ASCENDING)])
    await db["events"].create_index([("identifiers", ASCENDING)])  # erasure scrubs by it
    await db["landings"].create_index([("events", ASCENDING)])  # a retry finds its batch
    await db["events"].create_index([("type", ASCENDING), ("timestamp", DESCENDING)])
    await db["memberships"].create_index([("segment_id", ASCENDING), ("person_id", ASCENDING)])
    await db["memberships"].create_index([("person_id", ASCENDING)])
    await db["offer_rules"].create_index([("antecedent", ASCENDING)])
    await db["offer_responses"].create_index([("person_id", ASCENDING), ("at", DESCENDING)])
    await db["offer_responses"].create_index([("decision", ASCENDING)], sparse=True)
    await db["offer_decisions"].create_index([("at", ASCENDING)])
    await db["offer_decisions"].create_index([("person_id", ASCENDING)])
    await db["offer_rules"].create_index([("rank", ASCENDING)])
    await db["products"].create_index([("category", ASCENDING), ("baskets", DESCENDING)])
    await db["segments"].create_index([("name_key", ASCENDING)], unique=True, sparse=True)


async def inventory(db: AsyncDatabase[Document]) -> dict[str, tuple[int, list[str]]]:
    """Each collection's documents (estimated, from metadata) and its index names."""
    found: dict[str, tuple[int, list[str]]] = {}
    for name in sorted(await db.list_collection_names()):
        collection = db[name]
        indexes = sorted([index["name"] async for index in await collection.list_indexes()])
        found[name] = (await collection.estimated_document_count(), indexes)
    return found


async def server_version(db: AsyncDatabase[Document]) -> str:
    """The server's version as it reports it (``buildInfo``), or "unknown"."""
    try:
        info = await db.command("buildInfo")
    except PyMongoError:
        return "unknown"
    return str(info.get("version", "unknown"))


async def ping(db: AsyncDatabase[Document]) -> bool:
    """True when the server answers; the health check uses it."""
    try:
        async with asyncio.timeout(2.0):
            await db.command("ping")
    except Exception:  # noqa: BLE001 - any failure, timeout included, means "not healthy"
        return False
    return True
