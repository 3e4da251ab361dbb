"""Interests: the categories and topics a person keeps coming back to, recent ones first.

Each signal counts by how strong it is (buying says more than adding to a cart, which says
more than a view) and fades with a half-life, so last week's browsing outweighs last
year's. Categories come from ``category`` on product events and on each purchased item;
topics from ``topic`` on ``content_view``. Names are lower-cased so "Shoes" and "shoes"
are one interest.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from cdp.metrics.profile import Interaction

SIGNAL_WEIGHTS = {
    "purchase": 3.0,
    "add_to_cart": 2.0,
    "wishlist_add": 2.0,
    "product_view": 1.0,
    "content_view": 1.0,
}
HALF_LIFE_DAYS = 30.0
TOP = 10  # interests kept on the profile
MIN_WEIGHT = 0.5  # one view in the last 30 days is enough for an interest segment


# not frozen: the GraphQL type extends it (resolvers/types/metrics.py), typed once
@dataclass(slots=True)
class Interest:
    topic: str
    weight: float


def interests(history: Sequence[Interaction], now: datetime) -> list[Interest]:
    """The strongest interests, heaviest first (ties by name)."""
    weights: dict[str, float] = defaultdict(float)
    for event in history:
        strength = SIGNAL_WEIGHTS.get(event.type)
        if strength is None:
            continue
        age_days = max((now - event.timestamp).total_seconds() / 86_400, 0.0)
        fade = 0.5 ** (age_days / HALF_LIFE_DAYS)
        for topic in _topics(event):
            weights[topic] += strength * fade
    ranked = sorted(weights.items(), key=lambda item: (-item[1], item[0]))
    return [Interest(topic, round(weight, 4)) for topic, weight in ranked[:TOP]]


def _topics(event: Interaction) -> Iterator[str]:
    props = event.properties
    names: list[object] = [props.get("topic"), props.get("category")]
    items = props.get("items")
    if isinstance(items, list):
        names += [item.get("category") for item in items if isinstance(item, dict)]
    seen: set[str] = set()
    for name in names:
        if isinstance(name, str) and name.strip():
            topic = name.strip().lower()[:64]
            if topic not in seen:
                seen.add(topic)
                yield topic
