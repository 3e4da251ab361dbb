"""Shared fixtures: a real MongoDB-compatible server over the wire, never a mock.

One embedded server (the default engine, on a throwaway folder; fault injection needs no
flag) serves the whole session; ``CDP_TEST_MONGODB_URI`` points the suite at any other
MongoDB instead. Every test gets its own database, dropped afterwards, so tests cannot
see each other's data.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from cdp import bootstrap
from cdp.deps import Deps
from cdp.events import EventRules
from cdp.ingest import IngestLimits
from cdp.store import Stores
from cdp.store.database import Document, ping
from cdp.store.embedded import EmbeddedServer
from identity import IdentityRules

REGION = "GB"


@pytest.fixture(scope="session")
def mongodb_uri() -> Iterator[str]:
    external = os.environ.get("CDP_TEST_MONGODB_URI")
    if external:
        yield external
        return
    server = EmbeddedServer(None)
    uri = server.start()
    try:
        yield uri
    finally:
        server.stop()


@pytest.fixture
async def db(mongodb_uri: str) -> AsyncIterator[AsyncDatabase[Document]]:
    """A database of its own, prepared as the service prepares one (:mod:`cdp.bootstrap`)."""
    async with bootstrap.database(mongodb_uri, f"cdp_test_{uuid.uuid4().hex[:12]}") as database:
        try:
            yield database
        finally:
            await database.client.drop_database(database.name)


@pytest.fixture
def stores(db: AsyncDatabase[Document]) -> Stores:
    return Stores.on(db)


@pytest.fixture
def limits() -> IngestLimits:
    return IngestLimits(
        rules=EventRules(default_phone_region=REGION, max_properties_bytes=64 * 1024),
        max_batch_size=1000,
    )


@pytest.fixture
def unlimited(limits: IngestLimits) -> IngestLimits:
    """The same limits with identity limits out of reach: plain stitching."""
    return IngestLimits(limits.rules, limits.max_batch_size, IdentityRules().without_limits())


@pytest.fixture
def deps(stores: Stores, limits: IngestLimits, db: AsyncDatabase[Document]) -> Deps:
    return Deps(stores=stores, limits=limits, database_ready=lambda: ping(db))
