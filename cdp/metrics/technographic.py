"""Technographic, shopping-state and demographic facts about one person.

Devices and operating systems are read from ``properties.device`` and ``properties.os``
of any event (lower-cased); an event on the ``MOBILE_APP`` channel counts as mobile even
without a device. Age and the days to the next birthday come from the ``birthday`` trait
(``YYYY-MM-DD``); a value that does not parse is ignored rather than guessed. Geography
and the other demographics are the traits as given (``city``, ``country``, ``gender``,
``incomeBand``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from cdp.metrics.profile import Interaction
from cdp.metrics.trail import bought_skus, clean_sku

MOBILE_DEVICES = frozenset({"mobile", "phone", "smartphone", "tablet"})
CART_GRACE = timedelta(hours=24)  # a cart left this long without a purchase is abandoned
CART_MEMORY = timedelta(days=30)  # older carts are history, not an abandonment to act on


# not frozen: the GraphQL type extends it (resolvers/types/metrics.py), typed once
@dataclass(slots=True)
class Technographic:
    devices: list[str]
    operating_systems: list[str]
    channels: list[str]
    mobile_share: float | None


# not frozen: the GraphQL type extends it (resolvers/types/metrics.py), typed once
@dataclass(slots=True)
class Shopping:
    cart_abandoned: bool
    wishlist: list[str]


# not frozen: the GraphQL type extends it (resolvers/types/metrics.py), typed once
@dataclass(slots=True)
class Demographic:
    age: int | None
    days_to_birthday: int | None
    gender: str | None = None
    city: str | None = None
    country: str | None = None
    income_band: str | None = None


def technographic(history: Sequence[Interaction]) -> Technographic:
    devices: set[str] = set()
    systems: set[str] = set()
    mobile = 0
    for event in history:
        device = _name(event.properties.get("device"))
        system = _name(event.properties.get("os"))
        devices.update([device] if device else [])
        systems.update([system] if system else [])
        mobile += event.channel == "MOBILE_APP" or device in MOBILE_DEVICES
    return Technographic(
        devices=sorted(devices),
        operating_systems=sorted(systems),
        channels=sorted({event.channel for event in history}),
        mobile_share=round(mobile / len(history), 4) if history else None,
    )


def shopping(history: Sequence[Interaction], now: datetime) -> Shopping:
    """Whether the last cart was left without buying, and the skus still wished for
    (added to the wishlist, not removed and not bought since)."""
    last_cart = max((e.timestamp for e in history if e.type == "add_to_cart"), default=None)
    last_purchase = max((e.timestamp for e in history if e.type == "purchase"), default=None)
    abandoned = (
        last_cart is not None
        and CART_GRACE <= now - last_cart <= CART_MEMORY
        and (last_purchase is None or last_purchase < last_cart)
    )
    wished: dict[str, datetime] = {}
    for event in sorted(history, key=lambda e: e.timestamp):
        if event.type == "wishlist_add" and (sku := clean_sku(event.properties.get("sku"))):
            wished[sku] = event.timestamp
        elif event.type == "wishlist_remove" and (sku := clean_sku(event.properties.get("sku"))):
            wished.pop(sku, None)
        elif event.type == "purchase":
            for sku in bought_skus(event.properties):
                wished.pop(sku, None)
    return Shopping(cart_abandoned=abandoned, wishlist=sorted(wished))


def demographic(traits: Mapping[str, Any], today: date) -> Demographic:
    """Age from ``birthday``; gender, city, country and income band as the traits say."""
    said = {
        name: _text(traits.get(trait))
        for name, trait in (
            ("gender", "gender"),
            ("city", "city"),
            ("country", "country"),
            ("income_band", "incomeBand"),
        )
    }
    birthday = _date(traits.get("birthday"))
    if birthday is None or birthday > today:
        return Demographic(None, None, **said)
    age = today.year - birthday.year - ((today.month, today.day) < (birthday.month, birthday.day))
    return Demographic(age, _days_to_anniversary(birthday, today), **said)


def _days_to_anniversary(birthday: date, today: date) -> int:
    for year in (today.year, today.year + 1):
        try:
            next_one = birthday.replace(year=year)
        except ValueError:  # 29 February in a common year: celebrated on 1 March
            next_one = date(year, 3, 1)
        if next_one >= today:
            return (next_one - today).days
    raise AssertionError("unreachable: next year always has the anniversary")


def _text(value: object) -> str | None:
    return value.strip()[:100] if isinstance(value, str) and value.strip() else None


def _name(value: object) -> str | None:
    return value.strip().lower()[:64] if isinstance(value, str) and value.strip() else None


def _date(value: object) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None
