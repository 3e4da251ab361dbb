"""Recording membership changes: a person who leaves one segment and enters another in
the same refresh gets both timeline entries in one write, and the memberships end up
as the refresh decided, recorded."""

from datetime import UTC, datetime, timedelta

from pymongo.asynchronous.database import AsyncDatabase

from cdp.segments.changes import ENTERED, LEFT
from cdp.segments.definitions import BUILT_IN_BY_ID
from cdp.segments.record import record_changes
from cdp.store.database import Document
from tests.commands import listening

NOW = datetime(2026, 12, 2, 9, tzinfo=UTC)
NINA = "P-nina"  # bought twice, then nothing for 91 days


async def test_leaving_and_entering_together_are_one_timeline_write(
    mongodb_uri: str, db: AsyncDatabase[Document]
) -> None:
    async with listening(mongodb_uri, db) as (stores, commands):
        await stores.memberships.enter([("purchased_last_30d", NINA)], NOW - timedelta(days=95))
        await stores.memberships.mark_recorded([("purchased_last_30d", NINA)])
        before = await stores.memberships.of_persons([NINA])
        commands.targets.clear()
        segments = [BUILT_IN_BY_ID["purchased_last_30d"], BUILT_IN_BY_ID["lapsed_90d"]]
        changes = await record_changes(stores, before, {NINA: {"lapsed_90d"}}, segments, NOW)
    assert (changes.entered, changes.left, changes.persons) == (1, 1, {NINA})
    assert commands.targets.count("insert events") == 1
    entries = await db["events"].find({"person_id": NINA}).sort("type", 1).to_list()
    assert [(e["type"], e["properties"]["segmentId"]) for e in entries] == [
        (ENTERED, "lapsed_90d"),
        (LEFT, "purchased_last_30d"),
    ]
    held = await db["memberships"].find({"person_id": NINA}).to_list()
    assert [(h["segment_id"], h["recorded"]) for h in held] == [("lapsed_90d", True)]
