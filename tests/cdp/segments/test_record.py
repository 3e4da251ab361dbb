"""Recording membership changes: a person who leaves one segment and enters another in
the same refresh gets both timeline entries in one write, the memberships end up as the
refresh decided, and an entry lost between a membership and its entry comes back."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from cdp.ingest import IngestLimits, track
from cdp.segments.changes import ENTERED, LEFT, change_event
from cdp.segments.definitions import BUILT_IN_BY_ID
from cdp.segments.record import Frame, missing_entries, record_changes, record_framed
from cdp.store import Stores
from cdp.store.database import Document
from cdp.store.memberships import Held
from cdp.store.ordered import OrderedWrites, Write
from tests.commands import listening
from tests.stories import event

NOW = datetime(2026, 12, 2, 9, tzinfo=UTC)
NINA = "P-nina"  # bought twice, then nothing for 91 days


@pytest.mark.parametrize("in_one_command", [True, False])
async def test_leaving_and_entering_together_are_one_timeline_write(
    mongodb_uri: str, db: AsyncDatabase[Document], in_one_command: bool
) -> None:
    """Where the server takes several collections' writes in one command, the membership
    begun goes in it too, before the entries (a membership another writer holds stops it
    there); else the membership, then the entries."""
    async with listening(mongodb_uri, db) as (counted, commands):
        available = None if in_one_command else False
        stores = replace(counted, ordered=OrderedWrites(counted.database, available))
        await stores.memberships.enter([("purchased_last_30d", NINA)], NOW - timedelta(days=95))
        await stores.memberships.mark_recorded([("purchased_last_30d", NINA)])
        before = await stores.memberships.of_persons([NINA])
        commands.targets.clear()
        segments = [BUILT_IN_BY_ID["purchased_last_30d"], BUILT_IN_BY_ID["lapsed_90d"]]
        changes = await record_changes(stores, before, {NINA: {"lapsed_90d"}}, segments, NOW)
    assert (changes.entered, changes.left, changes.persons) == (1, 1, {NINA})
    writes = [t for t in commands.targets if t.split()[0] in {"insert", "bulkWrite"}]
    if in_one_command:
        assert writes == ["bulkWrite 1"]
        assert "find persons" not in commands.targets  # the check for a merge went in it
    else:
        assert writes == ["insert memberships", "insert events"]
    entries = await db["events"].find({"person_id": NINA}).sort("type", 1).to_list()
    assert [(e["type"], e["properties"]["segmentId"]) for e in entries] == [
        (ENTERED, "lapsed_90d"),
        (LEFT, "purchased_last_30d"),
    ]
    held = await db["memberships"].find({"person_id": NINA}).to_list()
    assert [(h["segment_id"], h["recorded"]) for h in held] == [("lapsed_90d", True)]


@pytest.mark.parametrize("in_one_command", [True, False])
async def test_a_person_merged_away_before_the_writes_keeps_none_of_them(
    db: AsyncDatabase[Document], stores: Stores, in_one_command: bool
) -> None:
    """Nina's refresh read her before her profile was merged into Omar's; it writes her
    membership and entry after the merge, finds her merged away, and takes them back.
    Omar, refreshed in the same way, keeps his."""
    stores = replace(
        stores, ordered=OrderedWrites(stores.database, None if in_one_command else False)
    )
    await db["persons"].insert_many(
        [{"_id": NINA, "merged_into": "P-omar"}, {"_id": "P-omar", "merged_into": None}]
    )
    segments = [BUILT_IN_BY_ID["lapsed_90d"]]
    for person in (NINA, "P-omar"):
        await record_changes(stores, {}, {person: {"lapsed_90d"}}, segments, NOW)

    held = await db["memberships"].find().to_list()
    assert [h["person_id"] for h in held] == ["P-omar"]
    entries = await db["events"].find({"type": ENTERED}).to_list()
    assert [e["person_id"] for e in entries] == ["P-omar"]


def test_a_recorded_membership_without_its_entry_on_the_timeline_is_missing() -> None:
    since = NOW - timedelta(days=3)
    held = {
        NINA: {"high_aov": Held(since, True), "lapsed_90d": Held(since, True)},
        "P-omar": {"high_aov": Held(since, False)},  # unrecorded: recorded the old way
    }
    kept = change_event(ENTERED, "high_aov", "High average order value", NINA, since, since)
    histories = {NINA: [{"_id": kept["_id"], "type": ENTERED}], "P-omar": []}
    assert missing_entries(held, histories) == {("lapsed_90d", NINA)}


async def test_an_entry_lost_to_a_cut_short_write_comes_back_with_the_next_event(
    mongodb_uri: str, db: AsyncDatabase[Document], stores: Stores, limits: IngestLimits
) -> None:
    nina = [("email", "nina.berg@example.com")]
    order = event("purchase", "WEB", nina, at="2026-12-01T10:00:00Z", message_id="o-1")
    order["properties"] = {"total": 40.0}
    await track(stores, [order], limits, now=NOW)
    entries = {"type": ENTERED, "properties.segmentId": "purchased_last_30d"}
    [entry] = await db["events"].find(entries).to_list()
    await db["events"].delete_one({"_id": entry["_id"]})  # the write after the membership
    visit = event("page_view", "WEB", nina, at="2026-12-01T11:00:00Z", message_id="v-1")
    async with listening(mongodb_uri, db) as (counted, commands):
        await track(counted, [visit], limits, now=NOW)
    assert [doc["_id"] for doc in await db["events"].find(entries).to_list()] == [entry["_id"]]
    assert "update memberships" not in commands.targets  # no flag to set any more


@pytest.mark.parametrize("held_by_another", ["high_aov", "lapsed_90d"])
async def test_a_membership_another_writer_began_first_is_theirs_to_tell(
    stores: Stores, db: AsyncDatabase[Document], held_by_another: str
) -> None:
    """Two refreshes of Nina at once both find her entering two segments; the other
    stored one membership first. This one records the other segment, entry included,
    and no entry for the one it did not begin."""
    earlier = NOW - timedelta(seconds=1)
    await stores.memberships.enter([(held_by_another, NINA)], earlier)
    segments = [BUILT_IN_BY_ID["high_aov"], BUILT_IN_BY_ID["lapsed_90d"]]

    changes = await record_changes(stores, {}, {NINA: {"high_aov", "lapsed_90d"}}, segments, NOW)

    ours = ({"high_aov", "lapsed_90d"} - {held_by_another}).pop()
    assert (changes.entered, changes.left) == (1, 0)
    entries = await db["events"].find({"person_id": NINA}).to_list()
    assert [(e["type"], e["properties"]["segmentId"]) for e in entries] == [(ENTERED, ours)]
    held = {h["segment_id"]: h["entered_at"] for h in await db["memberships"].find().to_list()}
    assert held == {held_by_another: earlier, ours: NOW}


@pytest.mark.parametrize("in_one_command", [True, False])
async def test_a_membership_this_writer_stored_a_moment_before_is_told(
    stores: Stores, db: AsyncDatabase[Document], in_one_command: bool
) -> None:
    """The database stored Nina's lapsed membership from this refresh's write, restarted
    before answering and forgot it, and PyMongo sent the write again: the membership is
    taken, at this very moment. It is this writer's own, so its entry is written."""
    if not in_one_command:
        stores = replace(stores, ordered=OrderedWrites(stores.database, False))
    await stores.memberships.enter([("lapsed_90d", NINA)], NOW)  # the forgotten attempt
    segments = [BUILT_IN_BY_ID["high_aov"], BUILT_IN_BY_ID["lapsed_90d"]]

    changes = await record_changes(stores, {}, {NINA: {"high_aov", "lapsed_90d"}}, segments, NOW)

    assert (changes.entered, changes.left) == (2, 0)
    entries = await db["events"].find({"person_id": NINA}).to_list()
    assert sorted(e["properties"]["segmentId"] for e in entries) == ["high_aov", "lapsed_90d"]
    held = {h["segment_id"]: h["entered_at"] for h in await db["memberships"].find().to_list()}
    assert held == {"high_aov": NOW, "lapsed_90d": NOW}


async def test_an_entry_already_told_is_stored_once_and_the_others_still_written(
    stores: Stores, db: AsyncDatabase[Document]
) -> None:
    told = change_event(ENTERED, "high_aov", "High average order value", NINA, NOW, NOW)
    await db["events"].insert_one(told)  # the same entry, by a writer cut short before
    segments = [BUILT_IN_BY_ID["high_aov"], BUILT_IN_BY_ID["lapsed_90d"]]

    changes = await record_changes(stores, {}, {NINA: {"high_aov", "lapsed_90d"}}, segments, NOW)

    assert changes.entered == 2
    entries = await db["events"].find({"person_id": NINA}).sort("_id", 1).to_list()
    assert sorted(e["properties"]["segmentId"] for e in entries) == ["high_aov", "lapsed_90d"]


async def test_a_bulk_refreshs_memberships_and_entries_go_in_two_writes_not_one_each(
    mongodb_uri: str, db: AsyncDatabase[Document]
) -> None:
    """One command for many writes would cost the embedded server a commit each: a
    batch's changes go as one insert of memberships and one of entries."""
    shoppers = [f"P-shopper-{n}" for n in range(3)]
    segments = [BUILT_IN_BY_ID["high_aov"], BUILT_IN_BY_ID["lapsed_90d"]]
    async with listening(mongodb_uri, db) as (stores, commands):
        wanted = {person: {"high_aov", "lapsed_90d"} for person in shoppers}
        changes = await record_changes(stores, {}, wanted, segments, NOW)
    assert changes.entered == 6
    writes = [t for t in commands.targets if t.split()[0] in {"insert", "bulkWrite"}]
    assert writes == ["insert memberships", "insert events"]
    assert await db["events"].count_documents({"type": ENTERED}) == 6


def _nina_viewing(stores: Stores) -> list[Write]:
    """The writes of Nina's page view that go before her profile in its command."""
    return stores.events.insert_writes(
        [{"_id": "pv-1", "person_id": NINA, "type": "page_view", "timestamp": NOW}]
    )


async def test_a_profile_marked_and_refreshed_goes_with_its_events_writes_in_one_command(
    mongodb_uri: str, db: AsyncDatabase[Document]
) -> None:
    """Nina's page view, her profile counting its change and refreshed with it, the
    membership it decided with its entry, and the event's closing writes: one command,
    nothing left pending."""
    await db["persons"].insert_one(
        {"_id": NINA, "created_at": NOW, "changes": 2, "pending_since": NOW}
    )
    segments = [BUILT_IN_BY_ID["lapsed_90d"]]
    async with listening(mongodb_uri, db) as (stores, commands):
        profile = stores.persons.marked_refresh_write(NINA, {"orders": 2}, {"lapsed_90d"}, 3, NOW)
        tail = stores.events.finish_writes("landing-1")
        frame = Frame([*_nina_viewing(stores), profile], tail)
        done = await record_framed(stores, {}, {NINA: {"lapsed_90d"}}, segments, NOW, (), frame)

    assert done.changes is not None
    assert (done.changes.entered, done.tail_done) == (1, True)
    writes = [t for t in commands.targets if t.split()[0] in {"insert", "update", "bulkWrite"}]
    assert writes == ["bulkWrite 1"]
    nina = await db["persons"].find_one({"_id": NINA})
    assert nina is not None
    assert (nina["changes"], nina["refreshed_changes"], nina["metrics"]) == (3, 3, {"orders": 2})
    assert "pending_since" not in nina
    assert await db["memberships"].count_documents({"person_id": NINA}) == 1


async def test_a_marked_refresh_of_a_person_changed_since_it_was_read_is_refused(
    db: AsyncDatabase[Document], stores: Stores
) -> None:
    """Nina was read with two changes; another call's event made a third since. Her page
    view (before the profile) is stored; the profile computed without the other event,
    the membership and the tail are not: the caller marks her for a refresh that reads."""
    await db["persons"].insert_one({"_id": NINA, "created_at": NOW, "changes": 3})
    profile = stores.persons.marked_refresh_write(NINA, {"orders": 2}, {"lapsed_90d"}, 3, NOW)
    frame = Frame([*_nina_viewing(stores), profile], stores.events.finish_writes("landing-1"))
    segments = [BUILT_IN_BY_ID["lapsed_90d"]]

    done = await record_framed(stores, {}, {NINA: {"lapsed_90d"}}, segments, NOW, (), frame)

    assert done.changes is None
    assert (done.applied.stopped_at, done.applied.refused) == (1, True)
    assert await db["events"].count_documents({"_id": "pv-1"}) == 1
    nina = await db["persons"].find_one({"_id": NINA})
    assert nina is not None
    assert (nina["changes"], "metrics" in nina) == (3, False)
    assert await db["memberships"].count_documents({}) == 0


async def test_a_marked_refresh_of_a_person_erased_since_it_was_read_inserts_nothing(
    db: AsyncDatabase[Document], stores: Stores
) -> None:
    """Nina was read with no change counted, then erased: the write (an upsert only to
    be refused) does not bring her profile back, even though its count would match."""
    profile = stores.persons.marked_refresh_write(NINA, {"orders": 2}, {"lapsed_90d"}, 1, NOW)
    segments = [BUILT_IN_BY_ID["lapsed_90d"]]

    done = await record_framed(
        stores, {}, {NINA: {"lapsed_90d"}}, segments, NOW, (), Frame([profile])
    )

    assert done.changes is None
    assert done.applied.refused
    assert await db["persons"].count_documents({}) == 0
    assert await db["memberships"].count_documents({}) == 0
