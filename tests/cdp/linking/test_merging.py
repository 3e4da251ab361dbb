"""Merges cut short by a failing server are finished by doing the same thing again."""

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import OperationFailure

from cdp.ingest import IngestLimits, track
from cdp.linking.merging import MergeRequest, apply_merges, merge_persons, settle_all
from cdp.profile.find import find_by_identifier, find_person
from cdp.records import EventStatus
from cdp.segments.manage import create_segment
from cdp.store import Stores
from cdp.store.database import Document
from tests.commands import listening
from tests.faults import failing_writes
from tests.stories import customers_apart_then_together, event, seed_story

MERGED_AT = datetime(2026, 3, 2, 8, 15, tzinfo=UTC)


async def person_of(stores: Stores, raw: dict[str, Any], limits: IngestLimits) -> str:
    person_id = (await track(stores, [raw], limits)).results[0].person_id
    assert person_id is not None
    return person_id


async def test_a_merge_cut_short_is_invisible_to_readers_and_finished_by_the_next_event(
    stores: Stores, limits: IngestLimits, db: AsyncDatabase[Document]
) -> None:
    story = seed_story()
    older = await person_of(stores, story[0], limits)
    younger = await person_of(stores, story[1], limits)
    assert older < younger

    async with failing_writes(db, skip=1):  # the mark goes through, the moves fail
        with pytest.raises(OperationFailure):
            await merge_persons(
                stores, older, younger, event_id="app-1", reason="test", now=MERGED_AT
            )

    assert await db["identifiers"].count_documents({"person_id": younger}) == 2  # cut short
    profile = await find_by_identifier(stores, "cookie_id", "ck-7f3a", "GB")
    assert profile is not None
    assert profile.id == older  # readers already see one person
    assert profile.family == [older, younger]

    later = event("page_view", "WEB", [("cookie_id", "ck-7f3a")], at="2026-03-03T10:00:00Z")
    result = await track(stores, [later], limits)
    assert result.results[0].person_id == older
    assert await db["identifiers"].count_documents({"person_id": younger}) == 0
    assert await db["events"].count_documents({"person_id": younger}) == 0
    assert await db["events"].count_documents({"person_id": older}) == 3
    person = await find_person(stores, older)
    assert person is not None
    assert person.traits == {"firstName": "Ana"}  # traits moved too


async def test_repeating_a_merge_changes_nothing(
    stores: Stores, limits: IngestLimits, db: AsyncDatabase[Document]
) -> None:
    story = seed_story()
    a = await person_of(stores, story[0], limits)
    b = await person_of(stores, story[1], limits)
    assert await merge_persons(stores, a, b, event_id=None, reason="test", now=MERGED_AT) == a
    assert await merge_persons(stores, b, a, event_id=None, reason="test", now=MERGED_AT) == a
    assert await db["merges"].count_documents({}) == 1


LAST_FAULT_POINT = 24  # the call's writes: the merge, the event and what follows it, the refresh


@pytest.mark.parametrize("writes_before_the_fault", range(LAST_FAULT_POINT + 1))
async def test_a_merging_call_cut_short_at_any_write_is_repaired_by_sending_it_again(
    stores: Stores, limits: IngestLimits, db: AsyncDatabase[Document], writes_before_the_fault: int
) -> None:
    story = seed_story()
    for raw in story[:3]:
        await track(stores, [raw], limits)
    app_users = await create_segment(
        stores, "App users", "", {"events": {"type": "login"}}, MERGED_AT
    )
    cut_short = False
    async with failing_writes(db, writes_before_the_fault, ("insert", "update", "delete")):
        try:
            await track(stores, [story[3]], limits)  # the app login that merges Ana's profiles
        except OperationFailure:
            cut_short = True  # an integration retries
    if writes_before_the_fault == LAST_FAULT_POINT:
        assert not cut_short, "the sweep must reach past the call's last write"
    retried = await track(stores, [story[3]], limits)
    assert retried.results[0].status in {EventStatus.ACCEPTED, EventStatus.DUPLICATE}

    live = await db["persons"].find({"merged_into": None}).to_list()
    assert [p["_id"] for p in live] == [retried.results[0].person_id]
    assert "pending_since" not in live[0]  # the refresh caught up and said so
    survivor = live[0]["_id"]
    assert {d["person_id"] async for d in db["identifiers"].find()} == {survivor}
    assert await db["identifiers"].count_documents({}) == 4
    events = (
        await db["events"].find({"type": {"$nin": ["segment_entered", "segment_left"]}}).to_list()
    )
    assert sorted(e["_id"] for e in events) == ["app-1", "call-1", "fb-1", "web-1"]
    assert {e["person_id"] for e in events} == {survivor}
    [record] = await db["merges"].find().to_list()
    assert record["event_id"] == "app-1"
    assert sorted(record["identifiers"]) == [
        "cookie_id:ck-7f3a",
        "email:ana.silva@example.com",
        "phone:+442079460958",
    ]
    person = await find_person(stores, survivor)
    assert person is not None
    assert person.traits == {"firstName": "Ana"}
    # the refresh was repaired too: metrics from all four events, memberships on Ana only
    assert live[0]["metrics"]["channels"] == ["FACEBOOK", "MOBILE_APP", "PHONE", "WEB"]
    memberships = await db["memberships"].find().to_list()
    assert {(m["segment_id"], m["person_id"]) for m in memberships} == {(app_users.id, survivor)}
    entries = await db["events"].find({"type": "segment_entered"}).to_list()
    assert [e["properties"]["segmentId"] for e in entries] == [app_users.id]  # recorded once


async def test_moving_a_fresh_merge_reads_each_persons_children_once(
    mongodb_uri: str, stores: Stores, limits: IngestLimits, db: AsyncDatabase[Document]
) -> None:
    """Settling reads who was merged into the persons asked and into those above them;
    the persons asked are among the latter's children, and their own children were read
    a moment before: not read again (a round trip of every batch that merges)."""
    story = seed_story()
    older = await person_of(stores, story[0], limits)
    younger = await person_of(stores, story[1], limits)
    request = MergeRequest(older, younger, event_id="app-1", reason="test")
    assert await apply_merges(stores, [request], MERGED_AT, settle=False) == {younger}

    async with listening(mongodb_uri, db) as (counted, commands):
        assert await settle_all(counted, {younger}) == {younger: older}

    children_read = [
        sorted(sent["filter"]["merged_into"]["$in"])
        for sent in commands.sent
        if sent.get("find") == "persons" and "merged_into" in sent.get("filter", {})
    ]
    assert children_read == [[younger], [older]]
    assert (await db["persons"].find_one({"_id": younger}) or {}).get("settled") is True
    assert {doc["person_id"] async for doc in db["identifiers"].find()} == {older}


async def test_a_move_done_twice_keeps_each_offer_response_once(
    stores: Stores, limits: IngestLimits, db: AsyncDatabase[Document]
) -> None:
    """A batch that meets a person merged away before that merge's own move is done
    finishes the move itself, beside it: the absorbed profile's offer responses reach the
    survivor's copy once, however many times the move runs."""
    story = seed_story()
    older = await person_of(stores, story[0], limits)
    younger = await person_of(stores, story[1], limits)
    shown = {"offer_id": "tent-upgrade", "response": "SHOWN", "at": MERGED_AT}
    taken = {"offer_id": "tent-upgrade", "response": "ACCEPTED", "at": MERGED_AT}
    await db["persons"].update_one({"_id": older}, {"$set": {"offer_history": [shown]}})
    await db["persons"].update_one({"_id": younger}, {"$set": {"offer_history": [shown, taken]}})
    request = MergeRequest(older, younger, event_id="app-1", reason="test")
    await apply_merges(stores, [request], MERGED_AT, settle=False)

    await asyncio.gather(settle_all(stores, {younger}), settle_all(stores, {younger}))
    await settle_all(stores, {younger})

    survivor = await db["persons"].find_one({"_id": older})
    assert survivor is not None
    assert survivor["offer_history"] == [shown, taken]


BULK_FAULT_POINTS = 14  # the logins' writes: persons marked merged, the moves, the events...


@pytest.mark.parametrize("writes_before_the_fault", range(BULK_FAULT_POINTS + 1))
async def test_a_bulk_batch_cut_short_while_moving_its_merges_is_repaired_by_sending_it_again(
    stores: Stores, limits: IngestLimits, db: AsyncDatabase[Document], writes_before_the_fault: int
) -> None:
    """A bulk batch's merged persons are moved after the stitching lock, beside its
    events: cut short anywhere, the batch sent again finishes every move (its events,
    stored or not, are stitched again while its landing is open, and stitching finishes
    the move of any person merged away it meets)."""
    apart, logins = customers_apart_then_together(12)
    await track(stores, apart, limits)
    cut_short = False
    async with failing_writes(db, writes_before_the_fault, ("insert", "update", "delete")):
        try:
            await track(stores, logins, limits)
        except OperationFailure:
            cut_short = True
    if writes_before_the_fault == BULK_FAULT_POINTS:
        assert not cut_short, "the sweep must reach past the call's last write"
    retried = await track(stores, logins, limits)
    assert all(r.status in {EventStatus.ACCEPTED, EventStatus.DUPLICATE} for r in retried.results)

    live = {p["_id"] async for p in db["persons"].find({"merged_into": None})}
    assert len(live) == 12
    assert {r.person_id for r in retried.results} == live
    assert await db["persons"].count_documents({"merged_into": {"$ne": None}}) == 12
    # every move done: nothing left on a person merged away (a move cut short at its
    # very last write, the flag saying it is done, is flagged by the next one to meet it)
    assert {d["person_id"] async for d in db["identifiers"].find()} == live
    assert {e["person_id"] async for e in db["events"].find()} <= live
    others = {"type": {"$nin": ["segment_entered", "segment_left"]}}
    assert await db["events"].count_documents(others) == 36
    assert await db["merges"].count_documents({}) == 12
