"""The segment of one: each event leaves the person's metrics and memberships right,
with every entry and exit on their timeline."""

from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from cdp.ingest import IngestLimits, track
from cdp.linking.corrections import merge_manually, unlink_identifier
from cdp.segments.manage import create_segment
from cdp.store import Stores
from cdp.store.database import Document
from identity import IdentityRules
from tests.stories import event

NOW = datetime(2026, 6, 30, 12, tzinfo=UTC)
MAYA = [("email", "maya.okafor@example.com"), ("cookie_id", "ck-91b2")]


def at(days_ago: float) -> str:
    return (NOW - timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def purchase(order: str, days_ago: float, total: float, **extra: Any) -> dict[str, Any]:
    items = [
        {"sku": "TR-42", "name": "Trail shoe", "category": "Shoes", "price": total, "quantity": 1}
    ]
    return event(
        "purchase",
        "WEB",
        MAYA,
        at=at(days_ago),
        message_id=order,
        properties={"orderId": order, "total": total, "currency": "EUR", "items": items, **extra},
    )


def till_purchase(
    order: str, identifier: tuple[str, str], days_ago: float, total: float
) -> dict[str, Any]:
    """A purchase at the shop's till, known only by one identifier (no items)."""
    return event(
        "purchase",
        "STORE",
        [identifier],
        at=at(days_ago),
        message_id=order,
        properties={"orderId": order, "total": total},
    )


async def person(db: AsyncDatabase[Document], email: str) -> Document:
    owner = await db["identifiers"].find_one({"_id": f"email:{email}"})
    assert owner is not None
    doc = await db["persons"].find_one({"_id": owner["person_id"]})
    assert doc is not None
    return doc


async def segments_of(db: AsyncDatabase[Document], person_id: str) -> set[str]:
    return {d["segment_id"] async for d in db["memberships"].find({"person_id": person_id})}


async def test_a_purchase_updates_metrics_and_segments_at_once(
    stores: Stores, limits: IngestLimits, db: AsyncDatabase[Document]
) -> None:
    await track(stores, [purchase("o-1", 3, 180.0, discountCode="SUMMER")], limits, now=NOW)
    maya = await person(db, "maya.okafor@example.com")
    metrics = maya["metrics"]
    assert (metrics["orders"], metrics["revenue"], metrics["days_since_last_order"]) == (
        1,
        180.0,
        3,
    )
    assert metrics["interest_topics"] == ["shoes"]
    assert metrics["computed_at"] == NOW
    assert await segments_of(db, maya["_id"]) == {
        "purchased_last_30d",
        "high_aov",
        "rare_high_aov",
        "interest:shoes",
    }
    entered = (
        await db["events"].find({"person_id": maya["_id"], "type": "segment_entered"}).to_list()
    )
    assert sorted(e["properties"]["segmentId"] for e in entered) == sorted(
        await segments_of(db, maya["_id"])
    )


async def test_buying_after_leaving_a_cart_leaves_cart_abandoners_on_the_timeline(
    stores: Stores, limits: IngestLimits, db: AsyncDatabase[Document]
) -> None:
    cart = event(
        "add_to_cart",
        "MOBILE_APP",
        MAYA,
        at=at(2),
        properties={"sku": "TR-42", "category": "Shoes"},
    )
    await track(stores, [cart], limits, now=NOW)
    maya = await person(db, "maya.okafor@example.com")
    assert "cart_abandoners" in await segments_of(db, maya["_id"])

    await track(stores, [purchase("o-2", 0.5, 95.0)], limits, now=NOW)
    assert "cart_abandoners" not in await segments_of(db, maya["_id"])
    left = await db["events"].find({"type": "segment_left"}).sort("_id", 1).to_list()
    assert [e["properties"] for e in left] == [
        {"segmentId": "cart_abandoners", "segmentName": "Cart abandoners"},
        {"segmentId": "mobile_first", "segmentName": "Mobile first"},  # 1 of 2 on the app now
    ]
    assert {(e["person_id"], e["timestamp"]) for e in left} == {(maya["_id"], NOW)}


async def test_a_duplicate_event_changes_no_membership(
    stores: Stores, limits: IngestLimits, db: AsyncDatabase[Document]
) -> None:
    await track(stores, [purchase("o-1", 3, 40.0)], limits, now=NOW)
    before = await db["events"].count_documents({})
    await track(stores, [purchase("o-1", 3, 40.0)], limits, now=NOW)
    assert await db["events"].count_documents({}) == before


async def test_a_merge_leaves_the_survivor_with_the_metrics_of_both_and_the_absorbed_with_none(
    stores: Stores, limits: IngestLimits, db: AsyncDatabase[Document]
) -> None:
    web = purchase("o-1", 10, 60.0)
    shop = till_purchase("o-2", ("phone", "+44 7911 123456"), 5, 40.0)
    await track(stores, [web, shop], limits, now=NOW)
    maya = await person(db, "maya.okafor@example.com")
    phone_owner = await db["identifiers"].find_one({"_id": "phone:+447911123456"})
    assert phone_owner is not None
    assert phone_owner["person_id"] != maya["_id"]

    login = event(
        "login", "MOBILE_APP", [MAYA[0], ("phone", "07911 123456")], at=at(1), message_id="app-1"
    )
    await track(stores, [login], limits, now=NOW)
    survivor = await person(db, "maya.okafor@example.com")
    assert (survivor["metrics"]["orders"], survivor["metrics"]["revenue"]) == (2, 100.0)
    assert await segments_of(db, phone_owner["person_id"]) == set()
    assert "purchased_last_30d" in await segments_of(db, survivor["_id"])


async def test_manual_merge_and_unlink_recompute_every_part(
    stores: Stores, limits: IngestLimits, db: AsyncDatabase[Document]
) -> None:
    await track(stores, [purchase("o-1", 10, 60.0)], limits, now=NOW)
    other = till_purchase("o-2", ("customer_id", "C-774"), 200, 300.0)
    await track(stores, [other], limits, now=NOW)
    maya = await person(db, "maya.okafor@example.com")
    store_owner = await db["identifiers"].find_one({"_id": "customer_id:C-774"})
    assert store_owner is not None
    assert "lapsed_90d" in await segments_of(db, store_owner["person_id"])

    survivor = await merge_manually(
        stores,
        maya["_id"],
        store_owner["person_id"],
        reason="same customer",
        agent="lea",
        rules=IdentityRules(),
        now=NOW,
    )
    merged = await db["persons"].find_one({"_id": survivor})
    assert merged is not None
    assert merged["metrics"]["orders"] == 2
    assert await segments_of(db, store_owner["person_id"]) == set()

    parts = await unlink_identifier(
        stores,
        survivor,
        ("customer_id", "C-774"),
        reason="wrong card",
        agent="lea",
        region="GB",
        now=NOW,
    )
    orders = {}
    for pid in parts:
        doc = await db["persons"].find_one({"_id": pid})
        assert doc is not None
        orders[pid] = doc["metrics"]["orders"]
    assert sum(orders.values()) == 2  # the store order went with its own part, or stayed


async def test_a_rule_on_identifier_types_is_kept_current_by_events(
    stores: Stores, limits: IngestLimits, db: AsyncDatabase[Document]
) -> None:
    segment = await create_segment(
        stores, "On Twitter", "", {"identifier": {"type": "twitter"}}, NOW
    )
    follow = event("social_follow", "TWITTER", [*MAYA, ("twitter", "maya_ok")], at=at(1))
    await track(stores, [follow], limits, now=NOW)
    maya = await person(db, "maya.okafor@example.com")
    assert segment.id in await segments_of(db, maya["_id"])
