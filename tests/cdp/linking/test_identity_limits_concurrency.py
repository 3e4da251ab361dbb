"""Identity limits hold when calls race: twelve calls at once, each carrying two emails
of a chain (k and k+1), never leave a person holding more emails than the limit; the
links the limit refuses are recorded as conflicts. Within one instance and across
instances sharing one database."""

import asyncio

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from cdp.ingest import IngestLimits, track
from cdp.store import Stores
from cdp.store.database import Document
from tests.stories import event

EMAIL_LIMIT = 5  # the default rule


def chain(k: int) -> list[dict[str, object]]:
    """A form that carried two addresses: a customer's and the next one's."""
    ids = [("email", f"e{k}@example.com"), ("email", f"e{k + 1}@example.com")]
    return [event("signup", "WEB", ids, at="2026-03-01T09:00:00Z", message_id=f"chain-{k}")]


async def emails_per_person(db: AsyncDatabase[Document]) -> list[int]:
    live = {doc["_id"] async for doc in db["persons"].find({"merged_into": None})}
    held = await (
        await db["identifiers"].aggregate([{"$group": {"_id": "$person_id", "n": {"$sum": 1}}}])
    ).to_list()
    assert all(row["_id"] in live for row in held)  # nothing owned by a merged person
    return sorted(row["n"] for row in held)


@pytest.mark.parametrize("calls", [12, 20, 26])
async def test_concurrent_calls_never_break_a_limit(
    stores: Stores, limits: IngestLimits, db: AsyncDatabase[Document], calls: int
) -> None:
    await asyncio.gather(*(track(stores, chain(k), limits) for k in range(calls)))
    counts = await emails_per_person(db)
    assert max(counts) <= EMAIL_LIMIT
    assert sum(counts) == calls + 1  # every address kept, on someone
    assert await db["conflicts"].count_documents({}) >= 1  # the refused links are said


async def test_instances_sharing_a_database_never_break_a_limit(
    limits: IngestLimits, db: AsyncDatabase[Document]
) -> None:
    instances = [Stores.on(db, shared=True) for _ in range(3)]
    await asyncio.gather(*(track(instances[k % 3], chain(k), limits) for k in range(18)))
    counts = await emails_per_person(db)
    assert max(counts) <= EMAIL_LIMIT
    assert sum(counts) == 19
    assert await db["locks"].count_documents({}) == 0  # every lease given back
