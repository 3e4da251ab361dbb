"""Demo customers: deterministic event histories that behave like a real shop's.

Pure: ``demo_people(count, seed, as_of)`` gives the same people, events and consent
decisions for the same arguments, and person ``i`` is the same whatever the count (a
demo of 100 is the first 100 of a demo of 1,000). Each person draws from their own
random stream (``seed`` and their number), so adding a kind of behaviour to one does not
reshuffle the others.

What makes it worth looking at: people reach the shop through several channels (the
Facebook message, then the web form, then the call, then the app), families share a
tablet (a weak identifier that joins nobody), an email typed wrong at checkout is
corrected later, purchases follow bundles (so co-purchase rules exist), and customers are
spread over the whole recency-by-frequency grid so every RFM name has members. The first
people of the list are given one behaviour each on purpose, so even a small demo has a
member in every built-in segment and a trigger for every lifecycle offer.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from cdp.demo.shop import (
    BUNDLES,
    BY_SKU,
    CAMPAIGNS,
    CATALOGUE,
    CATEGORIES,
    CHEAP,
    DEAR,
    LOW_STOCK,
    TOPICS,
)

FIRST = (
    "Ana",
    "Ben",
    "Chloe",
    "Dev",
    "Elif",
    "Femi",
    "Greta",
    "Hugo",
    "Ines",
    "Jon",
    "Kira",
    "Luca",
    "Maya",
    "Nils",
    "Olga",
    "Pedro",
    "Quinn",
    "Rosa",
    "Sami",
    "Tara",
)
LAST = (
    "Silva",
    "Okafor",
    "Novak",
    "Patel",
    "Kaya",
    "Adeyemi",
    "Berg",
    "Martin",
    "Costa",
    "Murphy",
    "Sato",
    "Rossi",
    "Cohen",
    "Larsen",
    "Ivanova",
    "Garcia",
    "Walsh",
    "Haas",
)
CITIES = (
    ("London", "GB"),
    ("Manchester", "GB"),
    ("Dublin", "IE"),
    ("Lisbon", "PT"),
    ("Berlin", "DE"),
    ("Leeds", "GB"),
)
INCOME = ("low", "medium", "medium", "high", "very_high")

# Behaviours given on purpose to the first people, one each, before chance takes over.
FORCED = (
    "champion",
    "lapsed",
    "birthday",
    "wishlist",
    "cart",
    "compare",
    "discount",
    "frequent_cheap",
    "rare_dear",
    "email_engaged",
    "email_unengaged",
    "mobile",
    "high_income",
)
RECENCY_DAYS = {5: (1, 12), 4: (16, 40), 3: (50, 85), 2: (100, 170), 1: (200, 330)}
ORDERS = {1: (1, 1), 2: (2, 2), 3: (3, 4), 4: (5, 6), 5: (8, 12)}


@dataclass(slots=True)
class DemoPerson:
    """One demo customer: their events (as ``track`` takes them) and consent decisions."""

    number: int
    name: str
    events: list[dict[str, Any]] = field(default_factory=list)
    consents: list[dict[str, Any]] = field(default_factory=list)  # purpose, channel, granted, at


def demo_people(count: int, seed: int, as_of: datetime) -> Iterator[DemoPerson]:
    """``count`` people as of ``as_of`` (every event before it)."""
    for number in range(count):
        yield _person(number, seed, as_of.astimezone(UTC).replace(microsecond=0))


@dataclass(slots=True)
class _Maker:
    """Builds one person's events; ``at`` is relative to the demo's ``as_of``."""

    number: int
    seed: int
    as_of: datetime
    rng: random.Random
    person: DemoPerson
    hour: int  # the hour they read email and shop most
    bought: set[str] = field(default_factory=set)

    def emit(
        self, type_: str, channel: str, ids: list[tuple[str, str]], at: datetime, **extra: Any
    ) -> None:
        event: dict[str, Any] = {
            "messageId": f"demo-{self.seed}-{self.number}-{len(self.person.events)}",
            "type": type_,
            "channel": channel,
            "identifiers": [{"type": t, "value": v} for t, v in ids],
            "timestamp": _iso(min(at, self.as_of - timedelta(minutes=1))),
        }
        event.update({k: v for k, v in extra.items() if v is not None})
        self.person.events.append(event)

    def days_ago(self, low: float, high: float) -> datetime:
        moment = self.as_of - timedelta(days=self.rng.uniform(low, high))
        hour = self.hour if self.rng.random() < 0.6 else self.rng.randint(7, 22)
        return moment.replace(hour=hour, minute=self.rng.randint(0, 59), second=0)


def _person(number: int, seed: int, as_of: datetime) -> DemoPerson:
    rng = random.Random(f"cdp-demo:{seed}:{number}")
    first, last = rng.choice(FIRST), rng.choice(LAST)
    maker = _Maker(
        number, seed, as_of, rng, DemoPerson(number, f"{first} {last}"), rng.randint(7, 21)
    )
    ids = _Identifiers(first, last, number, seed)
    traits = _traits(rng, first, last, as_of, number)
    forced = FORCED[number] if number < len(FORCED) else None
    mobile = forced == "mobile" or rng.random() < 0.25
    if forced == "high_income":
        traits["incomeBand"] = "very_high"

    _first_contact(maker, ids, traits, mobile)
    customer = (
        forced in {"champion", "lapsed", "discount", "frequent_cheap", "rare_dear", "cart"}
        or rng.random() < 0.65
    )
    if customer:
        _purchases(maker, ids, forced, mobile)
    if forced in {"email_engaged", "email_unengaged"} or (forced is None and rng.random() < 0.5):
        engaged = forced == "email_engaged" or (forced is None and rng.random() < 0.7)
        _emails(maker, ids, engaged=engaged)
    if forced == "cart" or rng.random() < 0.12:
        _abandoned_cart(maker, ids, mobile)
    if forced == "wishlist" or rng.random() < 0.12:
        _wishlist(maker, ids, mobile)
    if forced == "compare" or rng.random() < 0.1:
        _comparing(maker, ids, mobile)
    if rng.random() < 0.4:
        _reading(maker, ids, mobile)
    if forced == "birthday":
        soon = (as_of + timedelta(days=3)).date()
        traits["birthday"] = soon.replace(year=soon.year - 34).isoformat()
        maker.emit("profile_updated", "WEB", [ids.email_id], maker.days_ago(1, 2), traits=traits)
    _consents(maker, rng)
    return maker.person


@dataclass(frozen=True, slots=True)
class _Identifiers:
    first: str
    last: str
    number: int
    seed: int

    @property
    def email(self) -> str:
        return f"{self.first}.{self.last}{self.number}@example.com".lower()

    @property
    def email_id(self) -> tuple[str, str]:
        return ("email", self.email)

    @property
    def phone(self) -> str:
        return f"+44 7911 1{self.number % 100_000:05d}"

    @property
    def cookie(self) -> tuple[str, str]:
        return ("cookie_id", f"ck-{self.seed}-{self.number}")

    @property
    def device(self) -> tuple[str, str]:
        return ("device_id", f"app-{self.seed}-{self.number}")

    @property
    def customer(self) -> tuple[str, str]:
        return ("customer_id", f"C{self.seed}-{self.number:06d}")

    @property
    def facebook(self) -> tuple[str, str]:
        return ("facebook", f"1015{self.seed:04d}{self.number:07d}")

    def browsing(self, mobile: bool) -> tuple[str, tuple[str, str]]:
        """Where they browse, and the identifier that carries it: the app or the web."""
        return ("MOBILE_APP", self.device) if mobile else ("WEB", self.cookie)

    @property
    def family_tablet(self) -> tuple[str, str]:
        return ("device_id", f"tablet-{self.seed}-{self.number // 2}")


def _traits(
    rng: random.Random, first: str, last: str, as_of: datetime, number: int
) -> dict[str, Any]:
    city, country = rng.choice(CITIES)
    born = date(as_of.year - rng.randint(19, 72), rng.randint(1, 12), rng.randint(1, 28))
    if 0 <= (born.replace(year=as_of.year) - as_of.date()).days <= 7 and number >= len(FORCED):
        born = born.replace(month=born.month % 12 + 1)  # birthdays this week are chosen ones
    return {
        "firstName": first,
        "lastName": last,
        "city": city,
        "country": country,
        "gender": rng.choice(("female", "male", "female", "male", "non_binary")),
        "incomeBand": rng.choice(INCOME),
        "birthday": born.isoformat(),
    }


def _first_contact(maker: _Maker, ids: _Identifiers, traits: dict[str, Any], mobile: bool) -> None:
    """How they found us: the seed story's four channels for some, the web or app for most."""
    rng, start = maker.rng, 340 + maker.rng.uniform(0, 60)
    if rng.random() < 0.3 and not mobile:
        maker.emit(
            "message_received",
            "FACEBOOK",
            [ids.facebook],
            maker.days_ago(start, start),
            properties={
                "text": rng.choice(
                    (
                        "Is my order on its way?",
                        "Do you ship to Ireland?",
                        "Can I still change my size?",
                    )
                )
            },
        )
        maker.emit(
            "contact_form_submitted",
            "WEB",
            [ids.email_id, ids.cookie],
            maker.days_ago(start - 1, start - 1),
            properties={"subject": f"Order {1000 + ids.number}"},
            traits=traits,
        )
        spaced = f"  {ids.email.title()} "  # as an agent types it on the phone
        maker.emit(
            "call_received",
            "PHONE",
            [("phone", ids.phone), ("email", spaced)],
            maker.days_ago(start - 2, start - 2),
            properties={"durationSeconds": rng.randint(60, 900)},
        )
        maker.emit(
            "login",
            "MOBILE_APP",
            [ids.facebook, ids.email_id, ids.device],
            maker.days_ago(start - 3, start - 3),
            properties={"device": "mobile"},
        )
        return
    channel, device = ids.browsing(mobile)
    maker.emit(
        "page_view",
        channel,
        [device],
        maker.days_ago(start, start),
        properties={"url": "/", "device": "mobile" if mobile else "desktop"},
    )
    maker.emit(
        "signup",
        channel,
        [ids.email_id, device],
        maker.days_ago(start, start),
        traits=traits,
        properties={"device": "mobile" if mobile else "desktop"},
    )
    if ids.number % 10 < 2:  # two people of a household share the family tablet
        maker.emit(
            "product_view",
            "WEB",
            [ids.family_tablet, ids.email_id],
            maker.days_ago(start - 5, start - 5),
            properties={"sku": "EREADER-1", "category": "electronics", "device": "tablet"},
        )
    if ids.number % 4 == 1:  # a support conversation on WhatsApp
        maker.emit(
            "message_received",
            "WHATSAPP",
            [("whatsapp", ids.phone), ids.email_id],
            maker.days_ago(start - 20, start - 20),
            properties={"text": "Hi, can I return the boots I bought?"},
        )


def _purchases(maker: _Maker, ids: _Identifiers, forced: str | None, mobile: bool) -> None:
    """Orders placed in a recency-by-frequency cell, so the base spans the RFM grid."""
    rng = maker.rng
    cell = maker.number % 25
    recency, frequency = cell % 5 + 1, cell // 5 + 1
    mode = "bundle"
    if forced == "champion":
        recency, frequency = 5, 5
    elif forced == "lapsed":
        recency, frequency = 1, 3
    elif forced == "frequent_cheap" or ((recency, frequency) == (5, 5) and rng.random() < 0.4):
        recency, frequency, mode = 5, 4, "cheap"
    elif forced == "rare_dear" or (frequency == 1 and rng.random() < 0.5):
        recency, frequency, mode = max(recency, 3), 1, "dear"
    low, high = ORDERS[frequency]
    orders = rng.randint(low, high)
    last = rng.uniform(*RECENCY_DAYS[recency])
    spacing = 6.0 if mode == "cheap" else rng.uniform(14, 40)
    discount = forced == "discount" or (orders >= 2 and rng.random() < 0.15)
    login = [ids.customer, ids.email_id]
    # irregular gaps, as people buy: the CLV model needs spread to learn from
    gaps = [spacing * min(rng.expovariate(1.0) + 0.3, 3.0) for _ in range(orders - 1)]
    for k in range(orders):
        days = last + sum(gaps[k:])
        at = maker.days_ago(days, days)
        basket = _basket(rng, mode)
        maker.bought.update(sku for sku, _ in basket)
        total = round(sum(BY_SKU[sku].price * qty for sku, qty in basket), 2)
        channel, where = _where(rng, mobile, ids)
        if ids.number % 17 == 3 and k == 0:  # typo at the first checkout, fixed later
            login_here = [ids.customer, ("email", ids.email.replace("@example.", "@exmaple."))]
        else:
            login_here = login
        code = "WELCOME10" if discount and (k % 2 == 0 or forced == "discount") else None
        maker.emit(
            "purchase",
            channel,
            login_here + where,
            at,
            properties={
                "orderId": f"D{maker.seed}-{maker.number}-{k}",
                "total": total,
                "currency": "EUR",
                "discountCode": code,
                "items": [
                    {
                        "sku": sku,
                        "name": BY_SKU[sku].name,
                        "category": BY_SKU[sku].category,
                        "price": BY_SKU[sku].price,
                        "quantity": qty,
                    }
                    for sku, qty in basket
                ],
                "device": "mobile" if channel == "MOBILE_APP" else None,
            },
        )
    if ids.number % 17 == 3:
        maker.emit(
            "profile_updated",
            "WEB",
            login,
            maker.days_ago(last, last),
            properties={"field": "email", "note": "customer corrected a typo"},
        )


def _basket(rng: random.Random, mode: str) -> list[tuple[str, int]]:
    if mode == "cheap":
        return [(sku, 1) for sku in rng.sample(CHEAP, rng.randint(1, 2))]
    if mode == "dear":
        anchor = rng.choice(DEAR)
        bundle = next((b for b in BUNDLES if b[0] == anchor), (anchor,))
    elif rng.random() < 0.45:  # a small order: one or two things off the shelf
        every = [item.sku for item in CATALOGUE if item.sku not in DEAR]
        return [(sku, 1) for sku in rng.sample(every, rng.randint(1, 2))]
    else:
        bundle = rng.choice(BUNDLES)
    skus = [sku for sku in bundle if rng.random() < 0.8] or [bundle[0]]
    if rng.random() < 0.2:
        skus.append(rng.choice(CATALOGUE).sku)
    return [(sku, 2 if sku in CHEAP and rng.random() < 0.3 else 1) for sku in dict.fromkeys(skus)]


def _where(
    rng: random.Random, mobile: bool, ids: _Identifiers
) -> tuple[str, list[tuple[str, str]]]:
    roll = rng.random()
    if mobile and roll < 0.8:
        return "MOBILE_APP", [ids.device]
    if roll < 0.15:
        return "STORE", [("phone", ids.phone)]
    return "WEB", [ids.cookie]


def _emails(maker: _Maker, ids: _Identifiers, *, engaged: bool) -> None:
    rng = maker.rng
    for k, campaign in enumerate(rng.sample(CAMPAIGNS, rng.randint(3, 5)) * 2):
        sent = maker.days_ago(8 + 20 * k, 8 + 20 * k).replace(hour=6)
        maker.emit("email_sent", "EMAIL", [ids.email_id], sent, properties={"campaign": campaign})
        if engaged and rng.random() < 0.6:
            opened = sent.replace(hour=maker.hour) + timedelta(days=rng.choice((0, 0, 1)))
            maker.emit(
                "email_open", "EMAIL", [ids.email_id], opened, properties={"campaign": campaign}
            )
            if rng.random() < 0.4:
                maker.emit(
                    "email_click",
                    "EMAIL",
                    [ids.email_id],
                    opened + timedelta(minutes=2),
                    properties={"campaign": campaign},
                )


def _abandoned_cart(maker: _Maker, ids: _Identifiers, mobile: bool) -> None:
    item = maker.rng.choice(CATALOGUE)
    channel, device = ids.browsing(mobile)
    at = maker.days_ago(2, 9)
    maker.emit(
        "product_view",
        channel,
        [device, ids.email_id],
        at - timedelta(minutes=5),
        properties={"sku": item.sku, "category": item.category},
    )
    maker.emit(
        "add_to_cart",
        channel,
        [device, ids.email_id],
        at,
        properties={"sku": item.sku, "category": item.category},
    )


def _wishlist(maker: _Maker, ids: _Identifiers, mobile: bool) -> None:
    item = BY_SKU[maker.rng.choice(LOW_STOCK)]
    channel, device = ids.browsing(mobile)
    maker.emit(
        "wishlist_add",
        channel,
        [device, ids.email_id],
        maker.days_ago(3, 40),
        properties={"sku": item.sku, "category": item.category},
    )


def _comparing(maker: _Maker, ids: _Identifiers, mobile: bool) -> None:
    """Three or more products of one category looked at this fortnight."""
    rng = maker.rng
    shelves = {c: [i for i in CATALOGUE if i.category == c] for c in CATEGORIES}
    # a category they have bought nothing from yet: they are still choosing
    open_ = [
        c
        for c, items in shelves.items()
        if len(items) >= 3 and not any(i.sku in maker.bought for i in items)
    ]
    if not open_:
        return
    category = rng.choice(open_)
    items = shelves[category]
    channel, device = ids.browsing(mobile)
    for item in [*rng.sample(items, 3), rng.choice(items)]:
        maker.emit(
            "product_view",
            channel,
            [device, ids.email_id],
            maker.days_ago(1, 10),
            properties={"sku": item.sku, "category": item.category},
        )


def _reading(maker: _Maker, ids: _Identifiers, mobile: bool) -> None:
    topic = maker.rng.choice(TOPICS)
    channel, device = ids.browsing(mobile)
    for _ in range(maker.rng.randint(1, 4)):
        maker.emit(
            "content_view",
            channel,
            [device, ids.email_id],
            maker.days_ago(1, 25),
            properties={"topic": topic, "url": f"/journal/{topic.replace(' ', '-')}"},
        )


def _consents(maker: _Maker, rng: random.Random) -> None:
    """Most say yes to marketing by email; some to every channel; some change their mind."""
    given = maker.as_of - timedelta(days=300)
    roll = rng.random()
    if roll < 0.55:
        _consent(maker, None, True, given)
    elif roll < 0.85:
        _consent(maker, "EMAIL", True, given)
    elif roll < 0.93:
        _consent(maker, None, True, given)
        _consent(maker, "EMAIL", False, maker.as_of - timedelta(days=rng.uniform(5, 60)))
    if maker.number < len(FORCED) and not any(c["granted"] for c in maker.person.consents):
        _consent(maker, None, True, given)  # the chosen ones must be reachable for offers


def _consent(maker: _Maker, channel: str | None, granted: bool, at: datetime) -> None:
    maker.person.consents.append(
        {"purpose": "marketing", "channel": channel, "granted": granted, "at": at}
    )


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
