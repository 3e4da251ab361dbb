"""The metrics document kept on a profile: one pure function over one person's facts.

The per-event refresh and the bulk recompute both call :func:`summarise_person`, so the
two paths cannot disagree. What is fitted on the whole base (RFM boundaries, the CLV
model, CLV tier boundaries) comes in as :class:`BaseModels`, read once per batch.
Metrics that depend on the clock (days since, purchases in the last 30 days, interest
weights) are true as of ``computed_at``; the next event or ``recomputeSegments`` moves
them on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from functools import cache
from typing import Any

from cdp.metrics.clv import BgNbd, GammaGamma, PurchaseDays, TimeUnit
from cdp.metrics.fold import Folded, fold_history
from cdp.metrics.interests import MIN_WEIGHT
from cdp.metrics.profile import Interaction
from cdp.metrics.rfm import Boundaries, score
from cdp.metrics.technographic import demographic

CLV_TIERS = ("high", "medium", "low")


@dataclass(frozen=True, slots=True)
class ClvTiers:
    """Cut points of expected 12-month value: the top fifth is ``high``, the next three
    tenths ``medium``, the rest ``low``."""

    high: float
    medium: float

    def tier(self, value: float) -> str:
        return "high" if value >= self.high else "medium" if value >= self.medium else "low"


@dataclass(frozen=True, slots=True)
class BaseModels:
    rfm: Boundaries | None = None
    clv: Mapping[str, Any] | None = None
    clv_tiers: ClvTiers | None = None


def summarise_person(
    history: Sequence[Interaction],
    traits: Mapping[str, Any],
    consented_channels: frozenset[str],
    models: BaseModels,
    now: datetime,
) -> dict[str, Any]:
    """Every metric of the catalogue (and a few display-only ones) as one flat document,
    from a history oldest first (time, then id)."""
    return summarise_folded(fold_history(history, now), traits, consented_channels, models, now)


def summarise_folded(
    folded: Folded,
    traits: Mapping[str, Any],
    consented_channels: frozenset[str],
    models: BaseModels,
    now: datetime,
) -> dict[str, Any]:
    """:func:`summarise_person` from a person's history folded (:mod:`cdp.metrics.fold`)."""
    purchases = folded.purchases.metrics(now)
    engagement = folded.engagement.metrics(consented_channels)
    doc: dict[str, Any] = {**fields_of(purchases), **fields_of(engagement)}
    doc["days_since_last_engagement"] = (
        (now - engagement.last_engaged_at).days if engagement.last_engaged_at else None
    )
    doc.update(
        rfm_fields(purchases.days_since_last_order, purchases.orders, purchases.revenue, models)
    )
    clv = clv_of(folded.days, models.clv, now) if models.clv else None
    doc.update(
        clv or dict.fromkeys(("expected_purchases_90d", "probability_alive", "expected_value_12m"))
    )
    doc["clv_tier"] = (
        models.clv_tiers.tier(clv["expected_value_12m"]) if clv and models.clv_tiers else None
    )
    found = folded.interests.strongest(now)
    doc["interests"] = [fields_of(interest) for interest in found]
    doc["interest_topics"] = [i.topic for i in found if i.weight >= MIN_WEIGHT]
    doc.update(fields_of(folded.devices.technographic()))
    cart = folded.shopping.shopping(now)
    doc.update(cart_abandoned=cart.cart_abandoned, wishlist=cart.wishlist)
    doc["wishlist_size"] = len(cart.wishlist)
    doc["trail"] = folded.trail.trail(now).to_document()
    doc["marketing_channels"] = sorted(consented_channels)
    doc.update(fields_of(demographic(traits, now.date())))
    doc["computed_at"] = now
    return doc


def fields_of(record: Any) -> dict[str, Any]:
    """A metrics record's fields as a dict, shallow: ``dataclasses.asdict`` deep-copies
    every value, which was a quarter of a person's refresh; these values are built
    fresh for each person and never shared."""
    kind: type = type(record)
    return {name: getattr(record, name) for name in _field_names(kind)}


@cache  # a handful of record classes
def _field_names(kind: type) -> tuple[str, ...]:
    """A record class's field names, looked up once: ``dataclasses.fields`` builds its
    answer anew on each call, and a bulk batch calls it for every interest of every
    person (5% of the service's time while ingesting)."""
    return tuple(field.name for field in fields(kind))


def rfm_fields(
    days_since_last_order: int | None, orders: int, revenue: float, models: BaseModels
) -> dict[str, Any]:
    """RFM scores from the stored boundaries; empty for someone who never bought."""
    if models.rfm is None or days_since_last_order is None:
        return dict.fromkeys(
            ("rfm_recency", "rfm_frequency", "rfm_monetary", "rfm_code", "rfm_segment")
        )
    rfm = score(days_since_last_order, orders, revenue, models.rfm)
    return {
        "rfm_recency": rfm.recency,
        "rfm_frequency": rfm.frequency,
        "rfm_monetary": rfm.monetary,
        "rfm_code": rfm.code,
        "rfm_segment": rfm.segment,
    }


def clv_of(days: PurchaseDays, model: Mapping[str, Any], now: datetime) -> dict[str, float] | None:
    """BG/NBD and Gamma-Gamma predictions for one customer, from the purchase days of
    their fold; None for a person who never bought."""
    unit = TimeUnit[model["time_unit"]]
    customer = days.summary(now.date(), unit)
    if customer is None:
        return None
    bg = BgNbd(model["r"], model["alpha"], model["a"], model["b"], model["log_likelihood"])
    gg = GammaGamma(model["p"], model["q"], model["gamma"], 0.0)
    return {
        "expected_purchases_90d": round(bg.expected_purchases(customer, 90 / unit.value), 4),
        "probability_alive": round(bg.probability_alive(customer), 4),
        "expected_value_12m": round(
            bg.expected_purchases(customer, 365 / unit.value) * gg.expected_spend(customer), 2
        ),
    }
