"""Connecting to MongoDB and the indexes every collection needs."""

from __future__ import annotations

import asyncio
from datetime import UTC
from typing import Any

from pymongo import ASCENDING, DESCENDING, AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

Document = dict[str, Any]


def connect(uri: str) -> AsyncMongoClient[Document]:
    """Open a client that returns timezone-aware UTC datetimes.

    Call it on the running event loop (the app's lifespan does): PyMongo's async client
    binds to the loop it first runs on.
    """
    return AsyncMongoClient(
        uri,
        tz_aware=True,
        tzinfo=UTC,
        uuidRepresentation="standard",
        serverSelectionTimeoutMS=10_000,
    )


async def ensure_indexes(db: AsyncDatabase[Document]) -> None:
    """Create the indexes the queries rely on; safe to run at every start."""
    await db["identifiers"].create_index([("person_id", ASCENDING)])
    await db["persons"].create_index([("merged_into", ASCENDING)], sparse=True)
    await db["events"].create_index(
        [("person_id", ASCENDING), ("timestamp", DESCENDING), ("_id", DESCENDING)]
    )
    await db["links"].create_index([("a", ASCENDING)])
    await db["links"].create_index([("b", ASCENDING)])
    await db["merges"].create_index([("survivor", ASCENDING), ("at", DESCENDING)])


async def ping(db: AsyncDatabase[Document]) -> bool:
    """True when the server answers; the health check uses it."""
    try:
        await asyncio.wait_for(db.command("ping"), timeout=2.0)
    except Exception:  # noqa: BLE001 - any failure, timeout included, means "not healthy"
        return False
    return True
