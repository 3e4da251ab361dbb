"""Finding segments by id: from what this instance keeps, and a segment another instance
made a moment ago all the same."""

from datetime import UTC, datetime

from pymongo.asynchronous.database import AsyncDatabase

from cdp.segments.lookup import all_segments, segments_by_id
from cdp.segments.manage import create_segment, update_segment
from cdp.segments.record import interest_document
from cdp.segments.rules import parse_rule
from cdp.store import Stores
from cdp.store.database import Document

NOW = datetime(2026, 12, 2, tzinfo=UTC)


async def test_a_segment_made_by_another_instance_is_found_before_this_one_looks_again(
    db: AsyncDatabase[Document],
) -> None:
    here = Stores.on(db, remember_seconds=3600.0)  # keeps what it read for an hour
    there = Stores.on(db, remember_seconds=3600.0)
    await there.segments.add_interests([interest_document("camping", NOW)])
    assert [doc["_id"] for doc in await here.segments.all()] == ["interest:camping"]
    await there.segments.add_interests([interest_document("coffee", NOW)])

    found = await segments_by_id(here, ["interest:camping", "interest:coffee", "lapsed_90d"])
    assert {s.id: s.name for s in found.values()} == {
        "interest:camping": "Interested in camping",
        "interest:coffee": "Interested in coffee",
        "lapsed_90d": "Lapsed for 90 days",
    }
    assert await segments_by_id(here, ["interest:gone"]) == {}


async def test_a_stored_rule_is_parsed_once_while_kept_and_its_change_seen_at_once(
    db: AsyncDatabase[Document],
) -> None:
    """Every refresh asks for every segment: a rule read once is parsed once, and a
    segment changed here is evaluated with its new rule by the next refresh."""
    stores = Stores.on(db, remember_seconds=3600.0)
    made = await create_segment(
        stores,
        "Tent browsers",
        "",
        {"trait": {"name": "tents", "op": "EXISTS", "value": True}},
        NOW,
    )

    [first] = [s for s in await all_segments(stores) if s.id == made.id]
    [again] = [s for s in await all_segments(stores) if s.id == made.id]
    assert again is first  # the kept document, parsed once

    rule = {"trait": {"name": "country", "op": "EQ", "value": "FR"}}
    await update_segment(stores, made.id, "French", "", rule, NOW)
    [changed] = [s for s in await all_segments(stores) if s.id == made.id]
    assert changed.name == "French"
    assert changed.rule == parse_rule(rule)
