"""A person's metrics as served: purchases and engagement from their events, CLV from the
model fitted on the whole base.

For now these are computed when asked, from the person's own history (a cost that follows
that person, not the base). Keeping them on the profile as each event lands is the next
step of the metrics work; it reuses these same pure functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cdp.metrics.clv import BgNbd, GammaGamma, TimeUnit, summarise
from cdp.metrics.fitting import clv_model
from cdp.metrics.profile import (
    EngagementMetrics,
    Interaction,
    PurchaseMetrics,
    engagement_metrics,
    purchase_metrics,
)
from cdp.profiles import Profile
from cdp.store import Stores


@dataclass(frozen=True, slots=True)
class ClvPrediction:
    expected_purchases_90d: float
    probability_alive: float
    expected_value_12m: float


@dataclass(frozen=True, slots=True)
class PersonMetrics:
    purchases: PurchaseMetrics
    engagement: EngagementMetrics
    clv: ClvPrediction | None


async def person_metrics(stores: Stores, profile: Profile, now: datetime) -> PersonMetrics:
    history = [
        Interaction(doc["type"], doc["channel"], doc["timestamp"], doc.get("properties", {}))
        for doc in await stores.events.of_persons(profile.family)
    ]
    model = await clv_model(stores)
    return PersonMetrics(
        purchases=purchase_metrics(history, now),
        engagement=engagement_metrics(history),
        clv=predict_clv(history, model, now) if model else None,
    )


def predict_clv(
    history: list[Interaction], model: dict[str, Any], now: datetime
) -> ClvPrediction | None:
    """Predictions for one customer; None for a person who never bought."""
    unit = TimeUnit[model["time_unit"]]
    purchases = [(e.timestamp, e.total) for e in history if e.type == "purchase"]
    customer = summarise(purchases, now.date(), unit)
    if customer is None:
        return None
    bg = BgNbd(model["r"], model["alpha"], model["a"], model["b"], model["log_likelihood"])
    gg = GammaGamma(model["p"], model["q"], model["gamma"], 0.0)
    return ClvPrediction(
        expected_purchases_90d=round(bg.expected_purchases(customer, 90 / unit.value), 4),
        probability_alive=round(bg.probability_alive(customer), 4),
        expected_value_12m=round(
            bg.expected_purchases(customer, 365 / unit.value) * gg.expected_spend(customer), 2
        ),
    )
