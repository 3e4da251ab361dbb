"""The lifecycle offers: a registry, like the built-in segments.

Each entry says what the offer is (title, kind), how likely it is to be taken before
its own responses say (the starting rate of its prior), and when it applies: a pure
trigger over what is known of the person (:class:`Situation`) that gives the
candidates with the condition that fired, in words an agent can read aloud. Adding an
offer is adding an entry; ``tests/cdp/offers/test_lifecycle.py`` fails until it has a
case that fires it and one that does not.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cdp.offers.definitions import Candidate, Offer, OfferKind

BIRTHDAY_DAYS = 7  # a birthday voucher in the week before the day

Document = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Situation:
    """What the triggers read of a person, gathered once per answer."""

    metrics: Mapping[str, Any]
    segments: frozenset[str]
    products: Mapping[str, Document]  # offerable catalogue products by sku
    wished: tuple[str, ...] = ()  # skus on the wishlist
    carted: str | None = None  # the sku of an abandoned cart
    compared: str | None = None  # the most viewed sku of a category being compared
    low_stock: int = 5  # stock below which a wished-for item is running out
    default_value: float = 20.0  # an offer's value when the person has no basket yet

    @property
    def basket(self) -> float:
        """What a discount or a reward is worth for this person: their average order."""
        return float(self.metrics.get("average_order_value") or self.default_value)


Trigger = Callable[["LifecycleOffer", Situation], list[Candidate]]


@dataclass(frozen=True, slots=True)
class LifecycleOffer:
    name: str
    title: str
    kind: OfferKind
    starting_rate: float  # the prior's acceptance before its own responses
    trigger: Trigger

    def offer(self, value: float, sku: str | None = None) -> Offer:
        suffix = f":{sku}" if sku else ""
        return Offer(f"lifecycle:{self.name}{suffix}", self.title, self.kind, value, sku=sku)

    def candidates(self, situation: Situation) -> list[Candidate]:
        return self.trigger(self, situation)


def _win_back(me: LifecycleOffer, s: Situation) -> list[Candidate]:
    if "lapsed_90d" not in s.segments:
        return []
    days = s.metrics.get("days_since_last_order")
    return [
        Candidate(
            me.offer(s.basket),
            f"No order for {days} days: a win-back discount may bring them back.",
            {"source": "lifecycle", "segment": "lapsed_90d", "daysSinceLastOrder": days},
        )
    ]


def _loyalty(me: LifecycleOffer, s: Situation) -> list[Candidate]:
    if "rfm_champions" not in s.segments:
        return []
    return [
        Candidate(
            me.offer(s.basket),
            "One of the best customers (RFM Champions): thank them with a loyalty reward.",
            {"source": "lifecycle", "segment": "rfm_champions", "rfm": s.metrics.get("rfm_code")},
        )
    ]


def _birthday(me: LifecycleOffer, s: Situation) -> list[Candidate]:
    days = s.metrics.get("days_to_birthday")
    if days is None or days > BIRTHDAY_DAYS:
        return []
    return [
        Candidate(
            me.offer(s.basket),
            f"Birthday in {days} days: send a birthday voucher.",
            {"source": "lifecycle", "daysToBirthday": days},
        )
    ]


def _low_stock(me: LifecycleOffer, s: Situation) -> list[Candidate]:
    found = []
    for sku in s.wished:
        product = s.products.get(sku)
        stock = product.get("stock") if product else None
        if product and stock is not None and stock < s.low_stock:
            found.append(
                Candidate(
                    me.offer(product["price"], sku),
                    f"{product['name']} on their wishlist has only {stock} left.",
                    {"source": "lifecycle", "sku": sku, "stock": stock},
                    product["name"],
                )
            )
    return found


def _cart_reminder(me: LifecycleOffer, s: Situation) -> list[Candidate]:
    if not (s.carted and s.metrics.get("cart_abandoned") and s.carted in s.products):
        return []
    product = s.products[s.carted]
    return [
        Candidate(
            me.offer(product["price"], s.carted),
            f"Left {product['name']} in the cart without buying.",
            {"source": "lifecycle", "sku": s.carted},
            product["name"],
        )
    ]


def _compare_upsell(me: LifecycleOffer, s: Situation) -> list[Candidate]:
    if not (s.compared and s.compared in s.products):
        return []
    product = s.products[s.compared]
    return [
        Candidate(
            me.offer(product["price"], s.compared),
            f"Comparing several {product.get('category')} products; "
            f"{product['name']} is the one they looked at most.",
            {"source": "lifecycle", "sku": s.compared, "category": product.get("category")},
            product["name"],
        )
    ]


def _exclusive_discount(me: LifecycleOffer, s: Situation) -> list[Candidate]:
    if "discount_seekers" not in s.segments:
        return []
    return [
        Candidate(
            me.offer(s.basket),
            f"Used a discount code on {s.metrics.get('discount_share', 0):.0%} of orders: "
            "an exclusive discount suits them.",
            {"source": "lifecycle", "segment": "discount_seekers"},
        )
    ]


# Starting rates: an offer about something the customer showed intent for (a wishlist
# item running out, a cart left) starts above the 5% base rate; a cold win-back below
# it. Responses soon outweigh these guesses.
REGISTRY: tuple[LifecycleOffer, ...] = (
    LifecycleOffer("win_back", "Win-back discount", OfferKind.DISCOUNT, 0.03, _win_back),
    LifecycleOffer("loyalty", "Loyalty reward", OfferKind.SERVICE, 0.06, _loyalty),
    LifecycleOffer("birthday", "Birthday voucher", OfferKind.DISCOUNT, 0.08, _birthday),
    LifecycleOffer(
        "low_stock", "Low stock on a wishlist item", OfferKind.PRODUCT, 0.20, _low_stock
    ),
    LifecycleOffer("cart_reminder", "Still in your cart", OfferKind.PRODUCT, 0.12, _cart_reminder),
    LifecycleOffer("compare_upsell", "Help choosing", OfferKind.PRODUCT, 0.08, _compare_upsell),
    LifecycleOffer(
        "exclusive_discount",
        "Exclusive discount",
        OfferKind.DISCOUNT,
        0.06,
        _exclusive_discount,
    ),
)
BY_NAME: Mapping[str, LifecycleOffer] = {entry.name: entry for entry in REGISTRY}
STARTING_RATES: Mapping[str, float] = {entry.name: entry.starting_rate for entry in REGISTRY}


def lifecycle_candidates(situation: Situation) -> list[Candidate]:
    """Every lifecycle offer that applies, in registry order."""
    return [found for entry in REGISTRY for found in entry.candidates(situation)]
