"""The products a person bought, looked at and put in a cart: kept on the profile so that
next-best-offer reads one document instead of the person's whole history.

Computed with the other metrics at each refresh (same pure function for the per-event
and the bulk path). The lists are bounded, newest first, so a heavy browser's profile
stays small: the most recent :data:`MAX_BOUGHT` bought and :data:`MAX_VIEWED` viewed
skus, and the views of the last :data:`RECENT_VIEW_DAYS` days (at most
:data:`MAX_RECENT_VIEWS`), from which the offers tell who is comparing products. What
depends on the clock (is the cart still recent, are the views still recent) is decided
when the offers are asked for, from the timestamps kept here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from cdp.metrics.instants import PRUNE_MARGIN, answers, micros, pruned
from cdp.metrics.profile import Interaction, oldest_first

MAX_BOUGHT = 500
MAX_VIEWED = 200
MAX_RECENT_VIEWS = 100
RECENT_VIEW_DAYS = 14


@dataclass(frozen=True, slots=True)
class View:
    sku: str
    category: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class Trail:
    bought: list[str]  # newest first
    viewed: list[str]  # newest first
    last_cart_sku: str | None
    last_cart_at: datetime | None
    recent_views: list[View]  # newest first

    def to_document(self) -> dict[str, Any]:
        return {
            "bought": self.bought,
            "viewed": self.viewed,
            "last_cart_sku": self.last_cart_sku,
            "last_cart_at": self.last_cart_at,
            "recent_views": [
                {"sku": v.sku, "category": v.category, "at": v.at} for v in self.recent_views
            ],
        }

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> Trail:
        return cls(
            list(doc.get("bought") or []),
            list(doc.get("viewed") or []),
            doc.get("last_cart_sku"),
            doc.get("last_cart_at"),
            [View(v["sku"], v.get("category"), v["at"]) for v in doc.get("recent_views") or []],
        )


@dataclass(slots=True)
class TrailTally:
    """Each sku's newest purchase and view, the views of the recent days and the newest
    cart, bounded as it goes.

    Bounds that cannot change the answer: a sku's time only grows, so a sku pushed out
    of the newest ``2 * MAX_BOUGHT`` would be out of the newest ``MAX_BOUGHT`` for good
    unless bought again, which brings it back with its new time, as the whole history
    would; likewise views, and the recent views (a fixed time each, only added to)."""

    # each sku's newest time, in microseconds (cdp.metrics.instants): only their order
    # is read
    bought: dict[str, int] = field(default_factory=dict)
    viewed: dict[str, int] = field(default_factory=dict)
    recent: list[View] = field(default_factory=list)  # newest first once pruned
    cart: tuple[datetime, str] | None = None
    pruned_at: datetime | None = None

    def add(self, event: Interaction) -> None:
        named = clean_sku(event.properties.get("sku"))
        at = event.timestamp
        if event.type == "purchase":
            when = micros(at)
            for sku in bought_skus(event.properties):
                self.bought[sku] = max(when, self.bought.get(sku, when))
        elif event.type == "product_view" and named:
            when = micros(at)
            self.viewed[named] = max(when, self.viewed.get(named, when))
            category = event.properties.get("category")
            self.recent.append(View(named, category if isinstance(category, str) else None, at))
            if len(self.recent) > 4 * MAX_RECENT_VIEWS:  # only the newest can be read
                self.recent = _newest_views(self.recent)
        elif event.type == "add_to_cart" and named:
            self.cart = max(self.cart, (at, named)) if self.cart else (at, named)

    def prune(self, now: datetime) -> None:
        """Keep what a clock from ``now - PRUNE_MARGIN`` on can read."""
        since = now - timedelta(days=RECENT_VIEW_DAYS) - PRUNE_MARGIN
        self.recent = _newest_views([v for v in self.recent if v.at >= since])
        if len(self.bought) > 2 * MAX_BOUGHT:
            self.bought = {sku: self.bought[sku] for sku in _newest(self.bought, MAX_BOUGHT)}
        if len(self.viewed) > 2 * MAX_VIEWED:
            self.viewed = {sku: self.viewed[sku] for sku in _newest(self.viewed, MAX_VIEWED)}
        self.pruned_at = pruned(self.pruned_at, now)

    def answers(self, now: datetime) -> bool:
        return answers(self.pruned_at, now)

    def trail(self, now: datetime) -> Trail:
        since = now - timedelta(days=RECENT_VIEW_DAYS)
        cart = self.cart
        return Trail(
            bought=_newest(self.bought, MAX_BOUGHT),
            viewed=_newest(self.viewed, MAX_VIEWED),
            last_cart_sku=cart[1] if cart else None,
            last_cart_at=cart[0] if cart else None,
            recent_views=_newest_views([v for v in self.recent if v.at >= since]),
        )


def _newest_views(views: list[View]) -> list[View]:
    """The newest ``MAX_RECENT_VIEWS`` (stable: equal ones keep the order they came in)."""
    return sorted(views, key=lambda v: (v.at, v.sku), reverse=True)[:MAX_RECENT_VIEWS]


def trail(history: Sequence[Interaction], now: datetime) -> Trail:
    """What the person bought, viewed and carted, from their history (any order)."""
    tally = TrailTally()
    for event in oldest_first(history):
        tally.add(event)
    return tally.trail(now)


def bought_skus(properties: Mapping[str, Any]) -> list[str]:
    """The skus of a purchase's ``items`` (each ``{"sku": ...}``); malformed items skipped."""
    items = properties.get("items")
    if not isinstance(items, list):
        return []
    return [sku for item in items if isinstance(item, dict) and (sku := clean_sku(item.get("sku")))]


def clean_sku(value: object) -> str | None:
    return value.strip()[:128] if isinstance(value, str) and value.strip() else None


def _newest(seen: Mapping[str, int], limit: int) -> list[str]:
    return [sku for sku, _ in sorted(seen.items(), key=lambda kv: (kv[1], kv[0]), reverse=True)][
        :limit
    ]
