from datetime import UTC, datetime, timedelta

from cdp.metrics.interests import interests
from cdp.metrics.profile import Interaction

NOW = datetime(2026, 6, 30, 12, tzinfo=UTC)


def seen(kind: str, days_ago: float, **properties: object) -> Interaction:
    return Interaction(kind, "WEB", NOW - timedelta(days=days_ago), properties)


def test_a_recent_purchase_outweighs_old_browsing() -> None:
    history = [
        *(seen("product_view", 200, category="Tents") for _ in range(5)),
        seen("purchase", 3, items=[{"sku": "TR-42", "category": "Shoes"}]),
        seen("content_view", 1, topic="trail running"),
    ]
    found = interests(history, NOW)
    assert [i.topic for i in found] == ["shoes", "trail running", "tents"]
    assert found[0].weight == round(3 * 0.5 ** (3 / 30), 4)  # three views' worth, 3 days faded
    assert found[2].weight < 0.1  # five views, seven half-lives ago


def test_names_are_merged_regardless_of_case_and_junk_is_ignored() -> None:
    history = [
        seen("product_view", 0, category="Shoes"),
        seen("add_to_cart", 0, category=" shoes "),
        seen("product_view", 0, category=42),
        seen("page_view", 0, category="Ignored: not a product signal"),
    ]
    [only] = interests(history, NOW)
    assert (only.topic, only.weight) == ("shoes", 3.0)
