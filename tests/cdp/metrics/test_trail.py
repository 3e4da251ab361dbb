"""What a person bought, viewed and carted, kept on the profile for the offers."""

from datetime import UTC, datetime, timedelta

from cdp.metrics.profile import Interaction
from cdp.metrics.trail import MAX_VIEWED, Trail, trail

NOW = datetime(2026, 6, 30, 12, tzinfo=UTC)


def at(kind: str, days_ago: float, **properties: object) -> Interaction:
    return Interaction(kind, "WEB", NOW - timedelta(days=days_ago), properties)


def test_bought_and_viewed_skus_are_newest_first_and_cleaned_like_the_wishlist() -> None:
    found = trail(
        [
            at("purchase", 40, items=[{"sku": "TENT-2P"}, {"sku": "  MAT-1 "}, {"qty": 2}, "x"]),
            at("purchase", 2, items=[{"sku": "STOVE-1"}, {"sku": ""}]),
            at("product_view", 1, sku="LAMP-1"),
            at("product_view", 30, sku="TENT-2P"),
            at("product_view", 3, sku=42),  # not a sku
        ],
        NOW,
    )
    assert found.bought == ["STOVE-1", "TENT-2P", "MAT-1"]  # same day: by sku, descending
    assert found.viewed == ["LAMP-1", "TENT-2P"]


def test_only_the_last_cart_and_the_last_fortnights_views_are_kept_with_their_times() -> None:
    found = trail(
        [
            at("add_to_cart", 5, sku="MAT-1"),
            at("add_to_cart", 1, sku="LAMP-1"),
            at("product_view", 20, sku="OLD", category="camping"),
            at("product_view", 2, sku="TENT-2P", category="camping"),
            at("product_view", 1, sku="TENT-3P", category=["not", "a", "name"]),
        ],
        NOW,
    )
    assert (found.last_cart_sku, found.last_cart_at) == ("LAMP-1", NOW - timedelta(days=1))
    assert [(v.sku, v.category) for v in found.recent_views] == [
        ("TENT-3P", None),
        ("TENT-2P", "camping"),
    ]


def test_a_heavy_browser_keeps_only_the_most_recent_views() -> None:
    history = [at("product_view", n / 100, sku=f"P{n:04d}") for n in range(MAX_VIEWED + 50)]
    found = trail(history, NOW)
    assert len(found.viewed) == MAX_VIEWED
    assert found.viewed[0] == "P0000"
    assert found.viewed[-1] == f"P{MAX_VIEWED - 1:04d}"


def test_the_stored_document_reads_back_as_the_same_trail() -> None:
    found = trail(
        [
            at("purchase", 3, items=[{"sku": "TENT-2P"}]),
            at("product_view", 1, sku="MAT-1", category="camping"),
            at("add_to_cart", 1, sku="MAT-1"),
        ],
        NOW,
    )
    assert Trail.from_document(found.to_document()) == found
    assert Trail.from_document({}) == Trail([], [], None, None, [])
