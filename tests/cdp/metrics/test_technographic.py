from datetime import UTC, date, datetime, timedelta

from cdp.metrics.profile import Interaction
from cdp.metrics.technographic import demographic, shopping, technographic

NOW = datetime(2026, 6, 30, 12, tzinfo=UTC)


def at(kind: str, hours_ago: float, channel: str = "WEB", **properties: object) -> Interaction:
    return Interaction(kind, channel, NOW - timedelta(hours=hours_ago), properties)


def test_devices_systems_and_mobile_share() -> None:
    found = technographic(
        [
            at("page_view", 5, device="Mobile", os="iOS"),
            at("login", 4, channel="MOBILE_APP"),
            at("page_view", 3, device="desktop", os="Windows"),
        ]
    )
    assert found.devices == ["desktop", "mobile"]
    assert found.operating_systems == ["ios", "windows"]
    assert found.channels == ["MOBILE_APP", "WEB"]
    assert found.mobile_share == 0.6667


def test_a_cart_is_abandoned_after_a_day_without_buying() -> None:
    cart = at("add_to_cart", 30, sku="TR-42")
    assert shopping([cart], NOW).cart_abandoned
    assert not shopping([at("add_to_cart", 2, sku="TR-42")], NOW).cart_abandoned  # too soon
    assert not shopping([cart, at("purchase", 1, items=[{"sku": "TR-42"}])], NOW).cart_abandoned
    assert not shopping([at("add_to_cart", 24 * 40, sku="X")], NOW).cart_abandoned  # old news


def test_the_wishlist_forgets_what_was_removed_or_bought() -> None:
    history = [
        at("wishlist_add", 50, sku="TENT-2"),
        at("wishlist_add", 40, sku="TR-42"),
        at("wishlist_add", 30, sku="MUG-1"),
        at("wishlist_remove", 20, sku="MUG-1"),
        at("purchase", 10, items=[{"sku": "TR-42"}]),
    ]
    assert shopping(history, NOW).wishlist == ["TENT-2"]


def test_age_and_days_to_birthday_from_the_birthday_trait() -> None:
    today = date(2026, 6, 30)
    found = demographic({"birthday": "1990-07-04", "city": " Lyon ", "incomeBand": "high"}, today)
    assert (found.age, found.days_to_birthday) == (35, 4)
    assert (found.city, found.country, found.income_band) == ("Lyon", None, "high")
    leap = demographic({"birthday": "2000-02-29"}, date(2027, 2, 27))
    assert (leap.age, leap.days_to_birthday) == (26, 2)  # celebrated on 1 March
    assert demographic({"birthday": "not a date"}, today).age is None
    assert demographic({}, today).days_to_birthday is None
