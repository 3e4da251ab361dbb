"""The knobs of next-best-offer, with their defaults (``CDP_OFFER_*`` settings)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class OfferPolicy:
    min_support_count: int = 20  # baskets holding a rule's items, at least
    min_confidence: float = 0.1
    exploration: float = 0.1  # share of answers drawn by Thompson sampling (see exploration)
    exploration_seed: int | None = None  # set for repeatable answers (tests, demos)
    decline_days: int = 30  # a declined offer is not shown again for this long
    low_stock: int = 5  # a wishlist item below this stock triggers an alert
    prior_accepts: float = 1.0  # Beta prior: about 1 acceptance in 20 showings
    prior_rejects: float = 19.0
    lifecycle_value: float = 20.0  # value of a lifecycle offer when nothing better is known
