"""Recomputing every metric and membership in bulk (``recomputeSegments``, ``cdp recompute``).

Three passes over the base a page at a time, memory bounded by one page of profiles plus
the ids of the base and five numbers per customer:

1. **metrics and segments.** A person is *due* when the profile changed since its
   metrics were computed, they were computed before today (time moves windows and
   decays on), a CLV model was fitted since, or ``full`` is asked. A due person's
   metrics and segments are computed with the same pure functions as the per-event
   refresh (:func:`cdp.profile.refresh.evaluate_person`), and only what changed is
   written: one command per page for the profiles, one per kind of membership change.
   A person who is not due costs a read of a few fields.
2. **RFM and CLV tiers.** The quintile boundaries and tier cut points are refitted on
   every customer and stored; customers whose scores or tier moved are rescored.
3. **rescored segments.** The persons pass 2 rescored have the segments that read
   those scores evaluated again (the RFM and CLV ones, and any user rule on them).

So the first run over a base costs one computation per person, and a second run the
same day with nothing changed reads the base and writes nothing. The CLV model itself
is refitted only by ``fitClvModel`` (an analyst chooses its date and time unit); this
recompute predicts with the stored one.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from datetime import time as day_time
from typing import Any

from cdp.metrics.base import CLV_TIERS_MODEL, RFM_MODEL, load_base_models
from cdp.metrics.fitting import CLV_MODEL
from cdp.metrics.rfm import Boundaries, boundaries
from cdp.metrics.summary import BaseModels, ClvTiers, rfm_fields
from cdp.offers.mining import rebuild_offer_models
from cdp.offers.policy import OfferPolicy
from cdp.profile.compute import Evaluation, evaluate_segments
from cdp.profile.refresh import evaluate_each, family_facts
from cdp.segments.definitions import SegmentKind
from cdp.segments.lookup import all_segments
from cdp.segments.record import record_changes
from cdp.segments.rules import Compare, Rule, conditions
from cdp.store import Stores
from cdp.store.database import Document

PAGE = 500
PAGES_AT_ONCE = 2
Progress = Callable[[str, int, int], None]  # (stage, done, total)
# What pass 1 reads of a profile to decide whether it is due and whether anything moved.
PROFILE_FIELDS = (
    "traits",
    "merged_into",
    "metrics",
    "segment_ids",
    "updated_at",
    "pending_since",
    "changes",
)
SCORE_FIELDS = ("rfm_recency", "rfm_frequency", "rfm_monetary", "rfm_code", "rfm_segment")
SCORED = frozenset({*SCORE_FIELDS, "clv_tier"})  # what pass 2 may move


@dataclass(frozen=True, slots=True)
class RecomputeReport:
    persons: int
    recomputed: int  # persons whose metrics were computed (the others were current)
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
    scores: tuple[Any, ...]  # the RFM fields and CLV tier as stored


@dataclass(slots=True)
class _Tally:
    recomputed: int = 0
    entered: int = 0
    left: int = 0


def _quiet(stage: str, done: int, total: int) -> None:
    """No progress to show."""


async def recompute_all(
    stores: Stores,
    now: datetime,
    progress: Progress = _quiet,
    offers: OfferPolicy | None = None,
    *,
    full: bool = False,
) -> RecomputeReport:
    """Recompute what is due (everything with ``full``); with ``offers``, rebuild the
    co-purchase rules too."""
    started = time.perf_counter()
    models = await load_base_models(stores)
    clv = await stores.models.get(CLV_MODEL)
    due_before = max(
        datetime.combine(now.date(), day_time(), tzinfo=now.tzinfo),
        clv["fitted_at"] if clv and clv.get("fitted_at") else now.replace(year=1970),
    )
    defined = await all_segments(stores)
    rules = [s for s in defined if s.kind is not SegmentKind.INTEREST]
    evaluation = Evaluation.of(rules)
    by_scores = Evaluation.of([s for s in rules if reads_scores(s.rule)])
    everyone = await stores.persons.live_ids()
    tally = _Tally()

    customers: list[_Customer] = []

    async def metrics_and_segments(page: Sequence[str]) -> None:
        docs = await stores.persons.get_many(page, PROFILE_FIELDS)
        live = [doc for doc in docs.values() if not doc.get("merged_into")]
        due = [doc for doc in live if full or _due(doc, due_before)]
        computed = await _recompute(stores, due, models, evaluation, now, tally)
        for doc in live:
            metrics = computed.get(doc["_id"]) or doc.get("metrics") or {}
            if (customer := _customer(doc["_id"], metrics)) is not None:
                customers.append(customer)

    await _by_pages(everyone, metrics_and_segments, "metrics and segments", progress)

    rescored = await _refit_base(stores, customers, models)
    moved = [c for c in customers if _scores(c, rescored) != _stored_scores(c)]
    for start in range(0, len(moved), PAGE):
        chunk = moved[start : start + PAGE]
        await stores.persons.set_metric_fields({c.person_id: _scores(c, rescored) for c in chunk})
        progress("rfm and clv tiers", start + len(chunk), len(moved))
    if not moved:
        progress("rfm and clv tiers", 0, 0)

    async def rescored_segments(page: Sequence[str]) -> None:
        docs = await stores.persons.get_many(page, PROFILE_FIELDS)
        await _resegment(stores, list(docs.values()), by_scores, now, tally)

    ids = [c.person_id for c in moved]
    await _by_pages(ids, rescored_segments, "rescored segments", progress)
    if offers is not None:
        await rebuild_offer_models(stores, offers.min_support_count, offers.min_confidence, now)
        progress("co-purchase rules", 1, 1)
    return RecomputeReport(
        persons=len(everyone),
        recomputed=tally.recomputed,
        customers=len(customers),
        segments=len(await all_segments(stores)),
        entered=tally.entered,
        left=tally.left,
        seconds=round(time.perf_counter() - started, 3),
    )


async def _by_pages(
    ids: Sequence[str],
    work: Callable[[Sequence[str]], Awaitable[None]],
    stage: str,
    progress: Progress,
) -> None:
    """``work`` on every page of ``ids``, two pages at a time: while one page is being
    computed in Python the database serves the other's reads and writes (each page is
    a disjoint set of persons, so they never touch the same documents)."""
    pages = [ids[start : start + PAGE] for start in range(0, len(ids), PAGE)]
    done = 0
    progress(stage, 0, len(ids))

    async def worker() -> None:
        nonlocal done
        while pages:
            page = pages.pop(0)
            await work(page)
            done += len(page)
            progress(stage, done, len(ids))

    await asyncio.gather(*(worker() for _ in range(PAGES_AT_ONCE)))


def _due(doc: Document, due_before: datetime) -> bool:
    """Whether a profile's metrics may be out of date (see the module's pass 1)."""
    metrics = doc.get("metrics") or {}
    computed = metrics.get("computed_at")
    if computed is None or doc.get("pending_since") is not None:
        return True
    return bool(computed <= due_before or doc.get("updated_at", computed) > computed)


async def _recompute(
    stores: Stores,
    docs: Sequence[Document],
    models: BaseModels,
    evaluation: Evaluation,
    now: datetime,
    tally: _Tally,
) -> dict[str, dict[str, Any]]:
    """Metrics and segments of due persons; write what moved, and note the time."""
    if not docs:
        return {}
    ids = [doc["_id"] for doc in docs]
    facts = await family_facts(stores, ids, with_types=evaluation.needs_identifier_types)
    held = await stores.memberships.of_persons(ids)
    metrics, wanted = evaluate_each(docs, facts, models, evaluation, now)
    tally.recomputed += len(docs)
    changed = [
        doc["_id"]
        for doc in docs
        if _without_time(doc.get("metrics")) != _without_time(metrics[doc["_id"]])
        or sorted(doc.get("segment_ids") or []) != sorted(wanted[doc["_id"]])
        or doc.get("pending_since") is not None
    ]
    won = await stores.persons.set_refreshed(
        {p: metrics[p] for p in changed},
        {p: wanted[p] for p in changed},
        {doc["_id"]: int(doc.get("changes", 0)) for doc in docs},
    )
    await stores.persons.set_computed_at(set(ids) - set(changed), now)
    # a person refreshed by a newer reader meanwhile keeps the memberships it wrote
    kept = [p for p in ids if p in won or p not in changed]
    entered, left, _ = await record_changes(
        stores,
        {p: held.get(p, {}) for p in kept},
        {p: wanted[p] for p in kept},
        evaluation.definitions,
        now,
    )
    tally.entered, tally.left = tally.entered + entered, tally.left + left
    return metrics


async def _resegment(
    stores: Stores,
    docs: Sequence[Document],
    evaluation: Evaluation,
    now: datetime,
    tally: _Tally,
) -> None:
    """The segments that read RFM or CLV scores, for persons whose scores moved, from
    their stored metrics (no other segment can have changed for them)."""
    live = [doc for doc in docs if not doc.get("merged_into")]
    if not live or not evaluation.segments:
        return
    ids = [doc["_id"] for doc in live]
    relevant = {segment for segment, _ in evaluation.segments}
    facts = await family_facts(
        stores,
        ids,
        with_types=evaluation.needs_identifier_types,
        with_events=evaluation.needs_events,
    )
    held = await stores.memberships.of_persons(ids)
    before = {p: {s: h for s, h in held.get(p, {}).items() if s in relevant} for p in ids}
    wanted = {
        doc["_id"]: relevant
        & evaluate_segments(
            doc.get("traits", {}),
            doc.get("metrics") or {},
            facts.events[doc["_id"]],
            frozenset(facts.types[doc["_id"]]),
            evaluation,
            now,
        )
        for doc in live
    }
    lists = {
        p: sorted((held.get(p, {}).keys() - relevant) | wanted[p])
        for p in ids
        if wanted[p] != before[p].keys()
    }
    await stores.persons.set_segment_ids(lists)
    entered, left, _ = await record_changes(stores, before, wanted, evaluation.definitions, now)
    tally.entered, tally.left = tally.entered + entered, tally.left + left


def reads_scores(rule: Rule) -> bool:
    """Whether a rule compares an RFM score or the CLV tier (pass 3 re-evaluates it)."""
    return any(
        isinstance(leaf, Compare) and leaf.scope == "metric" and leaf.name in SCORED
        for leaf in conditions(rule)
    )


def _without_time(metrics: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if metrics is None:
        return None
    return {k: v for k, v in metrics.items() if k != "computed_at"}


def _customer(person_id: str, metrics: Mapping[str, Any]) -> _Customer | None:
    if metrics.get("days_since_last_order") is None:
        return None
    return _Customer(
        person_id,
        metrics["days_since_last_order"],
        metrics["orders"],
        metrics["revenue"],
        metrics.get("expected_value_12m"),
        tuple(metrics.get(name) for name in (*SCORE_FIELDS, "clv_tier")),
    )


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


def _stored_scores(customer: _Customer) -> dict[str, Any]:
    return dict(zip((*SCORE_FIELDS, "clv_tier"), customer.scores, strict=True))
