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
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cdp.metrics.profile import Interaction

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


def trail(history: Sequence[Interaction], now: datetime) -> Trail:
    """What the person bought, viewed and carted, from their history (any order)."""
    bought: dict[str, datetime] = {}
    viewed: dict[str, datetime] = {}
    recent: list[View] = []
    cart: tuple[datetime, str] | None = None
    since = now - timedelta(days=RECENT_VIEW_DAYS)
    for event in history:
        named = clean_sku(event.properties.get("sku"))
        if event.type == "purchase":
            for sku in bought_skus(event.properties):
                bought[sku] = max(event.timestamp, bought.get(sku, event.timestamp))
        elif event.type == "product_view" and named:
            viewed[named] = max(event.timestamp, viewed.get(named, event.timestamp))
            if event.timestamp >= since:
                category = event.properties.get("category")
                recent.append(
                    View(named, category if isinstance(category, str) else None, event.timestamp)
                )
        elif event.type == "add_to_cart" and named:
            cart = max(cart, (event.timestamp, named)) if cart else (event.timestamp, named)
    recent.sort(key=lambda v: (v.at, v.sku), reverse=True)
    return Trail(
        bought=_newest(bought, MAX_BOUGHT),
        viewed=_newest(viewed, MAX_VIEWED),
        last_cart_sku=cart[1] if cart else None,
        last_cart_at=cart[0] if cart else None,
        recent_views=recent[:MAX_RECENT_VIEWS],
    )


def bought_skus(properties: Mapping[str, Any]) -> list[str]:
    """The skus of a purchase's ``items`` (each ``{"sku": ...}``); malformed items skipped."""
    items = properties.get("items")
    if not isinstance(items, list):
        return []
    return [sku for item in items if isinstance(item, dict) and (sku := clean_sku(item.get("sku")))]


def clean_sku(value: object) -> str | None:
    return value.strip()[:128] if isinstance(value, str) and value.strip() else None


def _newest(seen: Mapping[str, datetime], limit: int) -> list[str]:
    return [sku for sku, _ in sorted(seen.items(), key=lambda kv: (kv[1], kv[0]), reverse=True)][
        :limit
    ]
