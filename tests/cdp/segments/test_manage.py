"""User-defined segments: checked when saved, evaluated on the whole base at once."""

from datetime import UTC, datetime

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from cdp.errors import BadUserInput, Conflict, Forbidden, NotFound
from cdp.ingest import IngestLimits, track
from cdp.segments.manage import create_segment, delete_segment, update_segment
from cdp.store import Stores
from cdp.store.database import Document
from tests.stories import event

NOW = datetime(2026, 6, 30, 12, tzinfo=UTC)
PRICING_TWICE = {
    "events": {
        "type": "page_view",
        "where": [{"path": "url", "value": "/pricing"}],
        "atLeast": 2,
        "withinDays": 14,
    }
}


def view(who: list[tuple[str, str]], url: str, at: str, message_id: str) -> dict[str, object]:
    return event("page_view", "WEB", who, at=at, message_id=message_id, properties={"url": url})


async def seed(stores: Stores, limits: IngestLimits) -> None:
    lena = [("email", "lena.berg@example.com")]
    omar = [("twitter", "omar_k"), ("cookie_id", "ck-55")]
    await track(
        stores,
        [
            view(lena, "/pricing", "2026-06-20T10:00:00Z", "v1"),
            view(lena, "/pricing", "2026-06-28T10:00:00Z", "v2"),
            view(omar, "/pricing", "2026-06-29T10:00:00Z", "v3"),
            view(omar, "/blog", "2026-06-29T11:00:00Z", "v4"),
        ],
        limits,
        now=NOW,
    )


async def named(db: AsyncDatabase[Document], person_ids: list[str]) -> set[str]:
    """Persons named by their email or twitter identifier."""
    found = set()
    for person in person_ids:
        query = {"person_id": person, "type": {"$in": ["email", "twitter"]}}
        owner = await db["identifiers"].find_one(query)
        assert owner is not None
        found.add(owner["_id"])
    return found


async def members(db: AsyncDatabase[Document], segment_id: str) -> set[str]:
    """Members, by identifier."""
    cursor = db["memberships"].find({"segment_id": segment_id})
    return await named(db, [doc["person_id"] async for doc in cursor])


async def test_a_new_segment_has_its_members_before_the_call_returns(
    stores: Stores, limits: IngestLimits, db: AsyncDatabase[Document]
) -> None:
    await seed(stores, limits)
    segment = await create_segment(stores, "Pricing shoppers", "Looked twice", PRICING_TWICE, NOW)
    assert await members(db, segment.id) == {"email:lena.berg@example.com"}
    entries = await db["events"].count_documents(
        {"type": "segment_entered", "properties.segmentId": segment.id}
    )
    assert entries == 1


async def test_changing_the_rule_moves_people_in_and_out(
    stores: Stores, limits: IngestLimits, db: AsyncDatabase[Document]
) -> None:
    await seed(stores, limits)
    segment = await create_segment(stores, "Pricing shoppers", "", PRICING_TWICE, NOW)
    on_twitter = {"and": [{"identifier": {"type": "twitter"}}, {"not": PRICING_TWICE}]}
    await update_segment(
        stores, segment.id, "Pricing shoppers", "now: twitter, once", on_twitter, NOW
    )
    assert await members(db, segment.id) == {"twitter:omar_k"}
    left = (
        await db["events"]
        .find({"type": "segment_left", "properties.segmentId": segment.id})
        .to_list()
    )
    assert len(left) == 1  # Lena, with the time she had entered in the entry's id


async def test_the_next_event_keeps_a_user_segment_current(
    stores: Stores, limits: IngestLimits, db: AsyncDatabase[Document]
) -> None:
    await seed(stores, limits)
    segment = await create_segment(stores, "Pricing shoppers", "", PRICING_TWICE, NOW)
    again = view([("twitter", "omar_k")], "/pricing", "2026-06-30T09:00:00Z", "v5")
    await track(stores, [again], limits, now=NOW)
    assert await members(db, segment.id) == {"email:lena.berg@example.com", "twitter:omar_k"}


async def test_a_bad_rule_is_refused_naming_the_bad_part(stores: Stores) -> None:
    bad = {
        "and": [
            PRICING_TWICE,
            {"metric": {"metric": "AVERAGE_ORDER_VALUE", "op": "GT", "value": "high"}},
        ]
    }
    with pytest.raises(
        BadUserInput, match=r"rule\.and\[1\]\.metric\.value: AVERAGE_ORDER_VALUE is a number"
    ):
        await create_segment(stores, "Broken", "", bad, NOW)
    assert await stores.segments.all() == []


async def test_names_are_unique_and_built_in_segments_cannot_change(stores: Stores) -> None:
    await create_segment(
        stores, "VIP", "", {"trait": {"name": "tier", "op": "EQ", "value": "gold"}}, NOW
    )
    with pytest.raises(Conflict, match="already exists"):
        await create_segment(stores, "  vip ", "", {"identifier": {"type": "email"}}, NOW)
    with pytest.raises(Forbidden, match="built-in"):
        await update_segment(stores, "high_aov", "Mine", "", {"identifier": {"type": "email"}}, NOW)
    with pytest.raises(NotFound):
        await delete_segment(stores, "seg_missing")


async def test_deleting_a_segment_removes_its_memberships(
    stores: Stores, limits: IngestLimits, db: AsyncDatabase[Document]
) -> None:
    await seed(stores, limits)
    segment = await create_segment(stores, "Pricing shoppers", "", PRICING_TWICE, NOW)
    await delete_segment(stores, segment.id)
    assert await db["memberships"].count_documents({"segment_id": segment.id}) == 0
    assert await stores.segments.get(segment.id) is None


async def on_profiles(db: AsyncDatabase[Document], segment_id: str) -> set[str]:
    """Persons whose profile lists the segment (what next-best-offer reads), by identifier."""
    return await named(
        db, [doc["_id"] async for doc in db["persons"].find({"segment_ids": segment_id})]
    )


async def test_each_profiles_list_of_segments_follows_the_memberships(
    stores: Stores, limits: IngestLimits, db: AsyncDatabase[Document]
) -> None:
    await seed(stores, limits)
    segment = await create_segment(stores, "Pricing shoppers", "", PRICING_TWICE, NOW)
    assert await on_profiles(db, segment.id) == {"email:lena.berg@example.com"}

    on_twitter = {"identifier": {"type": "twitter"}}
    await update_segment(stores, segment.id, "Pricing shoppers", "", on_twitter, NOW)
    assert await on_profiles(db, segment.id) == {"twitter:omar_k"}

    await update_segment(stores, segment.id, "Pricing shoppers", "", PRICING_TWICE, NOW)
    again = view([("twitter", "omar_k")], "/pricing", "2026-06-30T09:00:00Z", "v5")
    await track(stores, [again], limits, now=NOW)  # the refresh writes the list too
    both = {"email:lena.berg@example.com", "twitter:omar_k"}
    assert await on_profiles(db, segment.id) == both == await members(db, segment.id)

    await delete_segment(stores, segment.id)
    assert await on_profiles(db, segment.id) == set()
