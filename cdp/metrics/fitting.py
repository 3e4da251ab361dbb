"""Fitting the CLV models on the whole base: purchases aggregated in the database, the
likelihoods maximised in Python, the parameters stored for per-person predictions."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from cdp.errors import BadUserInput
from cdp.metrics.clv import ModelFitError, TimeUnit, fit_bg_nbd, fit_gamma_gamma, summarise
from cdp.store import Stores

CLV_MODEL = "clv"
MIN_CUSTOMERS = 20  # fewer cannot pin down four parameters


async def fit_clv_model(
    stores: Stores, as_of: datetime | None, unit: TimeUnit, now: datetime
) -> dict[str, Any]:
    """Fit BG/NBD and Gamma-Gamma on every purchase up to the end of ``as_of``'s day."""
    day = (as_of or now).astimezone(UTC).date()
    end = datetime.combine(day + timedelta(days=1), time(), tzinfo=UTC)
    rows = await stores.events.purchase_days(end)
    roots = await stores.persons.roots({person for person, _, _ in rows})
    purchases: dict[str, list[tuple[date, float]]] = defaultdict(list)
    for person, on, spend in rows:
        purchases[roots[person]].append((date.fromisoformat(on), spend))
    customers = [s for p in purchases.values() if (s := summarise(p, day, unit)) is not None]
    if len(customers) < MIN_CUSTOMERS:
        raise BadUserInput(
            f"asOf: {len(customers)} customers bought by {day}; fitting needs at least "
            f"{MIN_CUSTOMERS}"
        )
    try:
        bg, gg = fit_bg_nbd(customers), fit_gamma_gamma(customers)
    except ModelFitError as error:
        raise BadUserInput(f"asOf: cannot fit on the purchases up to {day}: {error}") from None
    model = {
        "r": bg.r,
        "alpha": bg.alpha,
        "a": bg.a,
        "b": bg.b,
        "p": gg.p,
        "q": gg.q,
        "gamma": gg.gamma,
        "time_unit": unit.name,
        "as_of": datetime.combine(day, time(), tzinfo=UTC),
        "customers": len(customers),
        "log_likelihood": bg.log_likelihood,
        "fitted_at": now,
    }
    await stores.models.save(CLV_MODEL, model)
    return model


async def clv_model(stores: Stores) -> dict[str, Any] | None:
    return await stores.models.get(CLV_MODEL)
