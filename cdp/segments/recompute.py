"""Recomputing every metric and membership in bulk (``recomputeSegments``, ``cdp recompute``).

Three passes, memory bounded by one page of profiles plus the ids of the base and five
numbers per customer:

1. walk the live persons in id order, a page at a time: metrics from each person's own
   history with the same pure function the per-event path uses, written back per page;
2. refit what depends on the whole base (RFM quintile boundaries, CLV tier cut points),
   store it, and rescore every customer with it;
3. evaluate every segment with its compiled query next to the data and write who entered
   and who left, with timeline entries; then rewrite the list of segments on the profile
   of everyone who moved, once per person (what next-best-offer reads).

The CLV model itself is refitted only by ``fitClvModel`` (an analyst chooses its date and
time unit); this recompute predicts with the stored one.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from cdp.metrics.base import CLV_TIERS_MODEL, RFM_MODEL, load_base_models
from cdp.metrics.rfm import Boundaries, boundaries
from cdp.metrics.summary import BaseModels, ClvTiers, rfm_fields
from cdp.offers.mining import rebuild_offer_models
from cdp.offers.policy import OfferPolicy
from cdp.segments.catalogue import all_segments
from cdp.segments.definitions import INTEREST_PREFIX, SegmentKind, interest_segment
from cdp.segments.manage import evaluate_on_base, sync_profile_segments
from cdp.segments.refresh import NO_SEGMENTS, evaluate_person, family_facts, interest_document
from cdp.store import Stores
from cdp.store.database import Document

PAGE = 500
Progress = Callable[[str, int, int], None]  # (stage, done, total)


@dataclass(frozen=True, slots=True)
class RecomputeReport:
    persons: int
    customers: int
    segments: int
    entered: int
    left: int
    seconds: float


@dataclass(frozen=True, slots=True)
class _Customer:
    person_id: str
    days_since_last_order: int
    orders: int
    revenue: float
    value_12m: float | None


def _quiet(stage: str, done: int, total: int) -> None:
    """No progress to show."""


async def recompute_all(
    stores: Stores, now: datetime, progress: Progress = _quiet, offers: OfferPolicy | None = None
) -> RecomputeReport:
    """Recompute everything; with ``offers``, rebuild the co-purchase rules too."""
    started = time.perf_counter()
    models = await load_base_models(stores)
    everyone = await stores.persons.live_ids()
    customers: list[_Customer] = []
    done = 0
    for start in range(0, len(everyone), PAGE):
        found = await stores.persons.get_many(everyone[start : start + PAGE])
        page = [doc for doc in found.values() if not doc.get("merged_into")]
        customers += await _metrics_of_page(stores, page, models, now)
        done += len(page)
        progress(
            "metrics",
            start + PAGE if start + PAGE < len(everyone) else len(everyone),
            len(everyone),
        )

    rescored = await _refit_base(stores, customers, models)
    for start in range(0, len(customers), PAGE):
        chunk = customers[start : start + PAGE]
        await stores.persons.set_metric_fields({c.person_id: _scores(c, rescored) for c in chunk})
        progress("rfm and clv tiers", start + len(chunk), len(customers))

    entered = left = 0
    defined = await all_segments(stores)
    segments = [s for s in defined if s.kind is not SegmentKind.INTEREST]
    known_topics = {s.id for s in defined if s.kind is SegmentKind.INTEREST}
    topics = sorted(str(t) for t in await stores.persons.distinct_metric("interest_topics"))
    await stores.segments.add_interests(interest_document(t, now) for t in topics)
    every = segments + [
        interest_segment(segment_id[len(INTEREST_PREFIX) :])
        for segment_id in sorted(known_topics | {f"{INTEREST_PREFIX}{t}" for t in topics})
    ]
    moved: set[str] = set()
    for number, segment in enumerate(every, start=1):
        change = await evaluate_on_base(stores, segment, now)
        entered, left = entered + change.entered, left + change.left
        moved |= change.moved
        progress("segments", number, len(every))
    moved_in_order = sorted(moved)
    for start in range(0, len(moved_in_order), PAGE):
        await sync_profile_segments(stores, moved_in_order[start : start + PAGE])
        progress("segment lists", min(start + PAGE, len(moved_in_order)), len(moved_in_order))
    if not moved_in_order:
        progress("segment lists", 0, 0)
    if offers is not None:
        await rebuild_offer_models(stores, offers.min_support_count, offers.min_confidence, now)
        progress("co-purchase rules", 1, 1)
    return RecomputeReport(
        persons=done,
        customers=len(customers),
        segments=len(every),
        entered=entered,
        left=left,
        seconds=round(time.perf_counter() - started, 3),
    )


async def _metrics_of_page(
    stores: Stores, page: list[Document], models: BaseModels, now: datetime
) -> list[_Customer]:
    facts = await family_facts(stores, [doc["_id"] for doc in page], with_types=False)
    metrics: dict[str, dict[str, Any]] = {}
    found: list[_Customer] = []
    for doc in page:
        pid = doc["_id"]
        values, _ = evaluate_person(
            doc.get("traits", {}),
            facts.events[pid],
            facts.consents[pid],
            frozenset(),
            models,
            NO_SEGMENTS,
            now,
        )
        metrics[pid] = values
        if values["days_since_last_order"] is not None:
            found.append(
                _Customer(
                    pid,
                    values["days_since_last_order"],
                    values["orders"],
                    values["revenue"],
                    values["expected_value_12m"],
                )
            )
    await stores.persons.set_metrics(metrics)
    return found


async def _refit_base(stores: Stores, customers: list[_Customer], models: BaseModels) -> BaseModels:
    """New RFM boundaries and CLV tiers from every customer (kept as they were when
    there are fewer than two customers to cut)."""
    rfm: Boundaries | None = models.rfm
    tiers = models.clv_tiers
    if len(customers) >= 2:
        rfm = boundaries(
            [c.days_since_last_order for c in customers],
            [c.orders for c in customers],
            [c.revenue for c in customers],
        )
        await stores.models.save(
            RFM_MODEL,
            {
                "recency_days": list(rfm.recency_days),
                "frequency": list(rfm.frequency),
                "monetary": list(rfm.monetary),
                "customers": len(customers),
            },
        )
    values = [c.value_12m for c in customers if c.value_12m is not None]
    if len(values) >= 2:
        deciles = statistics.quantiles(values, n=10, method="inclusive")
        tiers = ClvTiers(high=deciles[7], medium=deciles[4])
        await stores.models.save(
            CLV_TIERS_MODEL, {"high": tiers.high, "medium": tiers.medium, "customers": len(values)}
        )
    return replace(models, rfm=rfm, clv_tiers=tiers)


def _scores(customer: _Customer, models: BaseModels) -> dict[str, Any]:
    fields = rfm_fields(customer.days_since_last_order, customer.orders, customer.revenue, models)
    value = customer.value_12m
    fields["clv_tier"] = (
        models.clv_tiers.tier(value) if value is not None and models.clv_tiers else None
    )
    return fields
