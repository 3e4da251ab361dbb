"""RFM: recency, frequency and monetary scores 1 to 5 by quintiles of the whole base,
and the usual segment names.

Boundaries come from the whole base in bulk (``boundaries``) and are stored; scoring a
person (``score``) reads only the stored boundaries, so it is cheap per event. Quintile
cut points are ``statistics.quantiles`` (inclusive method).

The names follow the widely used map on the recency and frequency scores:

| R \\ F | 1 | 2 | 3 | 4 | 5 |
| --- | --- | --- | --- | --- | --- |
| 5 | New Customers | Potential Loyalist | Potential Loyalist | Champions | Champions |
| 4 | Promising | Potential Loyalist | Potential Loyalist | Loyal | Loyal |
| 3 | About to Sleep | About to Sleep | Need Attention | Loyal | Loyal |
| 2 | Hibernating | Hibernating | At Risk | At Risk | Can't Lose Them |
| 1 | Lost | Hibernating | At Risk | At Risk | Can't Lose Them |
"""

from __future__ import annotations

import statistics
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass

SEGMENT_NAMES: tuple[tuple[str, ...], ...] = (
    ("Lost", "Hibernating", "At Risk", "At Risk", "Can't Lose Them"),
    ("Hibernating", "Hibernating", "At Risk", "At Risk", "Can't Lose Them"),
    ("About to Sleep", "About to Sleep", "Need Attention", "Loyal", "Loyal"),
    ("Promising", "Potential Loyalist", "Potential Loyalist", "Loyal", "Loyal"),
    ("New Customers", "Potential Loyalist", "Potential Loyalist", "Champions", "Champions"),
)


@dataclass(frozen=True, slots=True)
class Boundaries:
    """Four cut points per measure, from the whole base."""

    recency_days: tuple[float, ...]
    frequency: tuple[float, ...]
    monetary: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class Rfm:
    recency: int
    frequency: int
    monetary: int

    @property
    def code(self) -> str:
        return f"{self.recency}{self.frequency}{self.monetary}"

    @property
    def segment(self) -> str:
        return SEGMENT_NAMES[self.recency - 1][self.frequency - 1]


@dataclass(frozen=True, slots=True)
class GridCell:
    recency: int
    frequency: int
    persons: int

    @property
    def segment(self) -> str:
        return SEGMENT_NAMES[self.recency - 1][self.frequency - 1]


def grid(counts: dict[tuple[int, int], int]) -> list[GridCell]:
    """All 25 recency-by-frequency cells, empty ones included, recency 5 first (the map's
    top row), so a heat map draws them as they come."""
    return [GridCell(r, f, counts.get((r, f), 0)) for r in range(5, 0, -1) for f in range(1, 6)]


def boundaries(
    recency_days: Sequence[float], frequency: Sequence[float], monetary: Sequence[float]
) -> Boundaries:
    """Quintile cut points of the customers' values (each list needs two values or more)."""

    def cuts(values: Sequence[float]) -> tuple[float, ...]:
        return tuple(statistics.quantiles(values, n=5, method="inclusive"))

    return Boundaries(cuts(recency_days), cuts(frequency), cuts(monetary))


def score(days_since_last_order: float, orders: float, revenue: float, cuts: Boundaries) -> Rfm:
    """Scores 1 to 5; for recency fewer days is better. A value on a cut point belongs
    to the lower quintile (at most the 20th percentile scores 1), so the many customers
    tied at one order all score F=1."""

    def quintile(value: float, points: tuple[float, ...]) -> int:
        return 1 + bisect_left(points, value)

    return Rfm(
        recency=6 - quintile(days_since_last_order, cuts.recency_days),
        frequency=quintile(orders, cuts.frequency),
        monetary=quintile(revenue, cuts.monetary),
    )
