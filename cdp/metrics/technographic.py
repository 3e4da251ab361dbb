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
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from cdp.metrics.profile import Interaction, oldest_first
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


@dataclass(slots=True)
class DeviceTally:
    """Devices, operating systems and channels seen, and how many events were mobile."""

    devices: set[str] = field(default_factory=set)
    systems: set[str] = field(default_factory=set)
    channels: set[str] = field(default_factory=set)
    mobile: int = 0
    events: int = 0

    def add(self, event: Interaction) -> None:
        device = _name(event.properties.get("device"))
        system = _name(event.properties.get("os"))
        if device:
            self.devices.add(device)
        if system:
            self.systems.add(system)
        self.channels.add(event.channel)
        self.mobile += event.channel == "MOBILE_APP" or device in MOBILE_DEVICES
        self.events += 1

    def technographic(self) -> Technographic:
        return Technographic(
            devices=sorted(self.devices),
            operating_systems=sorted(self.systems),
            channels=sorted(self.channels),
            mobile_share=round(self.mobile / self.events, 4) if self.events else None,
        )


@dataclass(slots=True)
class ShoppingTally:
    """The last cart and purchase, and the skus wished for (added to the wishlist, not
    removed and not bought since, in the order events came)."""

    last_cart: datetime | None = None
    last_purchase: datetime | None = None
    wished: dict[str, datetime] = field(default_factory=dict)

    def add(self, event: Interaction) -> None:
        at = event.timestamp
        if event.type == "add_to_cart":
            self.last_cart = at if self.last_cart is None else max(self.last_cart, at)
        elif event.type == "wishlist_add" and (sku := clean_sku(event.properties.get("sku"))):
            self.wished[sku] = at
        elif event.type == "wishlist_remove" and (sku := clean_sku(event.properties.get("sku"))):
            self.wished.pop(sku, None)
        elif event.type == "purchase":
            self.last_purchase = at if self.last_purchase is None else max(self.last_purchase, at)
            for sku in bought_skus(event.properties):
                self.wished.pop(sku, None)

    def shopping(self, now: datetime) -> Shopping:
        last_cart, last_purchase = self.last_cart, self.last_purchase
        abandoned = (
            last_cart is not None
            and CART_GRACE <= now - last_cart <= CART_MEMORY
            and (last_purchase is None or last_purchase < last_cart)
        )
        return Shopping(cart_abandoned=abandoned, wishlist=sorted(self.wished))


def technographic(history: Sequence[Interaction]) -> Technographic:
    tally = DeviceTally()
    for event in history:
        tally.add(event)
    return tally.technographic()


def shopping(history: Sequence[Interaction], now: datetime) -> Shopping:
    """Whether the last cart was left without buying, and the skus still wished for."""
    tally = ShoppingTally()
    for event in oldest_first(history):
        tally.add(event)
    return tally.shopping(now)


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
