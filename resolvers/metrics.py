"""Models fitted on the whole customer base: CLV."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from cdp.metrics.clv import TimeUnit
from cdp.metrics.fitting import clv_model, fit_clv_model
from cdp.metrics.rfm import GridCell
from cdp.segments.members import rfm_grid
from resolvers.context import Info

strawberry.enum(TimeUnit, description="The unit the CLV model counts time in.")


@strawberry.type(description="The fitted BG/NBD (r, alpha, a, b) and Gamma-Gamma (p, q, gamma).")
class ClvModel:
    r: float
    alpha: float
    a: float
    b: float
    p: float
    q: float
    gamma: float
    time_unit: TimeUnit
    as_of: datetime
    customers: int
    log_likelihood: float = strawberry.field(description="Of the BG/NBD fit.")
    fitted_at: datetime

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> ClvModel:
        fields = ("r", "alpha", "a", "b", "p", "q", "gamma", "customers", "log_likelihood")
        return cls(
            **{name: doc[name] for name in fields},
            time_unit=TimeUnit[doc["time_unit"]],
            as_of=doc["as_of"],
            fitted_at=doc["fitted_at"],
        )


@strawberry.type(description="One cell of the RFM map: the persons of this recency and frequency.")
class RfmCell:
    recency: int
    frequency: int
    persons: int
    segment: str = strawberry.field(description="The named segment this cell belongs to.")

    @classmethod
    def of(cls, cell: GridCell) -> RfmCell:
        return cls(
            recency=cell.recency,
            frequency=cell.frequency,
            persons=cell.persons,
            segment=cell.segment,
        )


@strawberry.type
class MetricsQuery:
    @strawberry.field(description="The CLV model last fitted, so an analyst can check it.")
    async def clv_model(self, info: Info) -> ClvModel | None:
        doc = await clv_model(info.context.deps.stores)
        return ClvModel.from_document(doc) if doc else None

    @strawberry.field(
        description="The RFM map as a 5 by 5 grid of recency and frequency scores with the "
        "persons in each cell (recency 5 first), for a heat map."
    )
    async def rfm_grid(self, info: Info) -> list[RfmCell]:
        return [RfmCell.of(cell) for cell in await rfm_grid(info.context.deps.stores)]


@strawberry.type
class MetricsMutation:
    @strawberry.mutation(
        description="Fit the CLV models on every purchase up to asOf (default: now), counting "
        "repeat purchases per day, in days or weeks."
    )
    async def fit_clv_model(
        self, info: Info, as_of: datetime | None = None, time_unit: TimeUnit = TimeUnit.DAYS
    ) -> ClvModel:
        model = await fit_clv_model(
            info.context.deps.stores, as_of, time_unit, info.context.deps.clock()
        )
        return ClvModel.from_document(model)
