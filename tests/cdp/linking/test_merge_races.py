"""Fifty writers at once, profiles meeting and merging while their segments are being
refreshed: nothing the refresh wrote is left on a person merged away, and no survivor's
timeline says it entered a segment twice."""

import asyncio
import random
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from cdp.ingest import IngestLimits, track
from cdp.segments.changes import ENTERED, LEFT
from cdp.segments.manage import create_segment
from cdp.store import Stores
from cdp.store.database import Document
from tests.stories import event

DEFINED_AT = datetime(2026, 3, 1, tzinfo=UTC)


def writer(seed: int, calls: int = 2, per_call: int = 5) -> list[list[dict[str, Any]]]:
    """One integration's calls: customers seen by email, by phone or by both (so the
    profiles of one customer meet and merge), sometimes with a shared cookie (a family
    tablet, a shop's Wi-Fi)."""
    rng = random.Random(seed)
    batches = []
    for call in range(calls):
        batch = []
        for n in range(per_call):
            customer = rng.randrange(60)
            email, phone = (
                ("email", f"c{customer}@example.com"),
                ("phone", f"+4479111{customer:05d}"),
            )
            ids = rng.choice([[email], [phone], [email, phone]])  # both: two profiles meet
            if rng.random() < 0.5:
                ids.append(("cookie_id", f"ck-{rng.randrange(90)}"))
            batch.append(
                event(
                    "page_view",
                    "WEB",
                    ids,
                    at=f"2026-03-01T09:{call:02d}:{n:02d}Z",
                    message_id=f"w{seed}-{call}-{n}",
                )
            )
        batches.append(batch)
    return batches


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_merges_racing_refreshes_leave_no_segment_rows_behind(
    stores: Stores, limits: IngestLimits, db: AsyncDatabase[Document], seed: int
) -> None:
    await create_segment(stores, "Web visitors", "", {"events": {"type": "page_view"}}, DEFINED_AT)

    async def integration(n: int) -> None:
        for batch in writer(seed * 100 + n):
            await track(stores, batch, limits)

    await asyncio.gather(*(integration(n) for n in range(50)))

    merged = {doc["_id"] async for doc in db["persons"].find({"merged_into": {"$ne": None}})}
    assert merged, "the story must merge profiles"
    rows = await db["events"].find({"type": {"$in": [ENTERED, LEFT]}}).to_list()
    assert [r["_id"] for r in rows if r["person_id"] in merged] == []
    assert await db["memberships"].count_documents({"person_id": {"$in": sorted(merged)}}) == 0
    told = Counter((r["person_id"], r["properties"]["segmentId"], r["type"]) for r in rows)
    for (person, segment, kind), times in told.items():
        if kind == ENTERED:
            assert times <= 1 + told[(person, segment, LEFT)], (person, segment)
