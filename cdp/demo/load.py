"""Loading the demo into a database: catalogue, events, consents, then the bulk models.

The events go through the same ingest as ``track`` (validation, stitching, the identity
rules, each person marked for refresh), so the demo shows what the product does with such
data rather than documents written around it. Then the consents are recorded and every
person refreshed once (the same per-person refresh; before the consents it would have to
run twice, as consent decides the preferred channel), the CLV model fitted and a
recompute cuts the RFM quintiles and mines the co-purchase rules, the steps an operator
would run on real history. Re-running it stores no event twice (the
message ids are derived from the seed and the person), which is what lets a start that
was interrupted mid-load simply load again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cdp.demo.customers import DemoPerson, demo_people
from cdp.demo.shop import product_inputs
from cdp.errors import BadUserInput
from cdp.ingest import IngestLimits, land
from cdp.metrics.clv import TimeUnit
from cdp.metrics.fitting import fit_clv_model
from cdp.offers.policy import OfferPolicy
from cdp.offers.products import upsert_products
from cdp.profile.refresh import refresh_persons
from cdp.records import EventStatus
from cdp.segments.recompute import Progress, recompute_all
from cdp.store import Stores

PAGE = 500
log = logging.getLogger("cdp")
DEMO_SEED = 1  # the first start's demo: the same customers on every machine


@dataclass(frozen=True, slots=True)
class DemoReport:
    persons: int
    events: int
    accepted: int
    duplicates: int
    rejected: int
    seconds: float


def _quiet(stage: str, done: int, total: int) -> None:
    """No progress to show."""


async def load_demo(
    stores: Stores,
    limits: IngestLimits,
    offers: OfferPolicy,
    *,
    persons: int,
    seed: int,
    now: datetime,
    progress: Progress = _quiet,
) -> DemoReport:
    """Load ``persons`` demo customers as of ``now``; safe to run again."""
    if persons < 1:
        raise BadUserInput("persons: at least 1")
    started = time.perf_counter()
    await stores.config.set_demo_state({"state": "loading", "persons": persons, "seed": seed})
    await upsert_products(stores, product_inputs(), now)
    statuses: dict[EventStatus, int] = dict.fromkeys(EventStatus, 0)
    person_of: dict[int, str] = {}
    decisions: list[tuple[int, dict[str, Any]]] = []
    touched: set[str] = set()
    loaded = 0
    for batch in _batches(demo_people(persons, seed, now), limits.max_batch_size):
        events = [event for person in batch for event in person.events]
        # landed without the per-batch refresh: each person is refreshed once, below,
        # after their consent decisions are in (their preferred channel follows consent)
        landed = await land(stores, events, limits, now)
        touched |= landed.persons
        result = landed.result
        for status in EventStatus:
            statuses[status] += result.count(status)
        answers = iter(result.results)
        for person in batch:
            ids = [answer.person_id for answer, _ in zip(answers, person.events, strict=False)]
            if found := [pid for pid in ids if pid]:
                person_of[person.number] = found[-1]
            decisions += [(person.number, decision) for decision in person.consents]
        loaded += len(batch)
        progress("demo customers", loaded, persons)
    await _record_consents(stores, person_of, decisions)
    await _refresh(stores, sorted(touched), now, progress)
    await _fit_clv(stores, now)
    await recompute_all(stores, now, progress, offers)
    await stores.config.set_demo_state({"state": "loaded", "persons": persons, "seed": seed})
    return DemoReport(
        persons=persons,
        events=sum(statuses.values()),
        accepted=statuses[EventStatus.ACCEPTED],
        duplicates=statuses[EventStatus.DUPLICATE],
        rejected=statuses[EventStatus.REJECTED],
        seconds=round(time.perf_counter() - started, 3),
    )


def _batches(people: Iterable[DemoPerson], most: int) -> Iterator[list[DemoPerson]]:
    """Whole persons per batch (stitched together), at most ``most`` events."""
    batch: list[DemoPerson] = []
    size = 0
    for person in people:
        if batch and size + len(person.events) > most:
            yield batch
            batch, size = [], 0
        batch.append(person)
        size += len(person.events)
    if batch:
        yield batch


async def _record_consents(
    stores: Stores, person_of: dict[int, str], decisions: Sequence[tuple[int, dict[str, Any]]]
) -> None:
    """The decisions on each person's live profile, in one write."""
    roots = await stores.persons.roots(set(person_of.values()))
    documents = [
        {**decision, "person_id": roots[person_of[number]], "source": "demo data", "agent": None}
        for number, decision in decisions
        if number in person_of
    ]
    await stores.consents.record_many(documents)


async def _refresh(stores: Stores, persons: list[str], now: datetime, progress: Progress) -> None:
    """Metrics and memberships of every demo person, once, a page at a time."""
    for start in range(0, len(persons), PAGE):
        await refresh_persons(stores, persons[start : start + PAGE], now)
        progress("demo metrics and segments", min(start + PAGE, len(persons)), len(persons))


async def _fit_clv(stores: Stores, now: datetime) -> None:
    """The CLV model (so tiers exist), counted in days or, when a small demo cannot pin
    that down, in weeks; a demo too small for either goes without."""
    for unit in (TimeUnit.DAYS, TimeUnit.WEEKS):
        try:
            await fit_clv_model(stores, now, unit, now)
        except BadUserInput:
            continue
        return


async def load_on_first_start(
    stores: Stores, limits: IngestLimits, offers: OfferPolicy, *, persons: int, now: datetime
) -> DemoReport | None:
    """Load the demo into an empty database, or finish a load a stop interrupted; a
    database that holds anyone else's data is left alone (None)."""
    state = await stores.config.demo_state()
    if state is not None and state.get("state") == "loaded":
        return None
    if state is None and await stores.persons.live_count() > 0:
        return None
    log.info("demo: loading %d demo customers into the empty database", persons)
    return await load_demo(stores, limits, offers, persons=persons, seed=DEMO_SEED, now=now)
