"""Customer lifetime value: BG/NBD for purchases and survival, Gamma-Gamma for spend.

Written directly on the closed-form likelihoods (Fader, Hardie and Lee 2005, "Counting
Your Customers the Easy Way" and "RFM and CLV") and fitted by maximum likelihood with
scipy, rather than through a package: ``lifetimes`` is archived and its loader needs an old
setuptools; ``pymc-marketing`` weighs about 800 MB and its 1.x needs Python 3.12. The
CDNOW test reproduces the published parameters.

Repeat purchases are counted per day, as in the paper: several orders on one day are one
purchase. Time is measured in days or weeks from a customer's first purchase.
"""

from __future__ import annotations

import enum
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize
from scipy.special import gammaln, hyp2f1


class TimeUnit(enum.Enum):
    DAYS = 1
    WEEKS = 7


@dataclass(frozen=True, slots=True)
class CustomerSummary:
    """What the models need of one customer, as of a date.

    ``frequency``: repeat purchase days; ``recency``: time from the first to the last
    purchase day; ``age``: time from the first purchase day to the as-of date;
    ``repeat_spend``: the mean spend of the repeat purchase days (0 without any).
    """

    frequency: int
    recency: float
    age: float
    repeat_spend: float


@dataclass(slots=True)
class PurchaseDays:
    """A customer's purchase days as the models read them, kept as purchases come
    (oldest first, :mod:`cdp.metrics.fold`): the first day, the last two, the last day's
    total so far, and the sum of the days between the first and the last, added in day
    order as a sum over the whole list would add them.

    Only the last day can be after the day a summary is asked for: purchases are at
    most 24 hours ahead of the ingest's clock (:data:`cdp.events.MAX_FUTURE_SKEW`), and
    a summary is asked for as of a later clock, so at most tomorrow."""

    days: int = 0
    first: date | None = None
    previous: date | None = None  # the day before ``last`` with a purchase
    last: date | None = None
    last_total: float = 0.0
    middle_sum: float = 0.0  # the totals of the days after ``first`` and before ``last``

    def add(self, when: date | datetime, amount: float) -> None:
        day = _day(when)
        if self.last is not None and day < self.last:
            raise ValueError("purchase days are added oldest first")
        if day == self.last:
            self.last_total += amount
            return
        if self.days >= 2:  # the last day is now between the first and the new one
            self.middle_sum += self.last_total
        self.previous, self.last = self.last, day
        self.first = self.first or day
        self.last_total = 0.0 + amount
        self.days += 1

    def summary(self, as_of: date, unit: TimeUnit) -> CustomerSummary | None:
        """The summary of the purchases up to ``as_of``; None if none by then."""
        if self.first is None or self.last is None:
            return None
        last: date | None = self.last
        if self.last <= as_of:
            days = self.days
            repeat_sum = self.middle_sum + self.last_total if days > 1 else 0.0
        else:  # the last day is tomorrow's (see the class's note)
            days, last = self.days - 1, self.previous
            repeat_sum = self.middle_sum
        if days <= 0 or last is None or self.first > as_of:
            return None
        repeats = days - 1
        return CustomerSummary(
            frequency=repeats,
            recency=(last - self.first).days / unit.value,
            age=(as_of - self.first).days / unit.value,
            repeat_spend=repeat_sum / repeats if repeats else 0.0,
        )


def summarise(
    purchases: Iterable[tuple[date | datetime, float]], as_of: date, unit: TimeUnit
) -> CustomerSummary | None:
    """One customer's purchases (day, amount) up to ``as_of``; None if none by then."""
    tally = PurchaseDays()
    for when, amount in sorted(purchases, key=lambda purchase: _day(purchase[0])):
        if _day(when) <= as_of:
            tally.add(when, amount)
    return tally.summary(as_of, unit)


def _day(when: date | datetime) -> date:
    return when.date() if isinstance(when, datetime) else when


@dataclass(frozen=True, slots=True)
class BgNbd:
    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float

    def probability_alive(self, c: CustomerSummary) -> float:
        if c.frequency == 0:
            return 1.0
        ratio = (self.alpha + c.age) / (self.alpha + c.recency)
        odds = self.a / (self.b + c.frequency - 1) * ratio ** (self.r + c.frequency)
        return float(1.0 / (1.0 + odds))

    def expected_purchases(self, c: CustomerSummary, horizon: float) -> float:
        """Expected repeat purchases in the next ``horizon`` time units (paper, eq. 10)."""
        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        x, t_x, big_t = c.frequency, c.recency, c.age
        z = horizon / (alpha + big_t + horizon)
        term = 1 - ((alpha + big_t) / (alpha + big_t + horizon)) ** (r + x) * hyp2f1(
            r + x, b + x, a + b + x - 1, z
        )
        numerator = (a + b + x - 1) / (a - 1) * term
        alive_odds = 0.0
        if x > 0:
            alive_odds = a / (b + x - 1) * ((alpha + big_t) / (alpha + t_x)) ** (r + x)
        return float(numerator / (1 + alive_odds))


@dataclass(frozen=True, slots=True)
class GammaGamma:
    p: float
    q: float
    gamma: float
    log_likelihood: float

    def expected_spend(self, c: CustomerSummary) -> float:
        """Expected spend per purchase: the population mean shrunk towards the customer's."""
        x, m = c.frequency, c.repeat_spend
        if x == 0 or self.q <= 1:
            return self.p * self.gamma / (self.q - 1) if self.q > 1 else 0.0
        return (self.gamma + m * x) * self.p / (self.p * x + self.q - 1)


def _grouped(customers: Sequence[CustomerSummary]) -> tuple[NDArray[np.float64], ...]:
    """Identical customers counted once with a weight: CDNOW's 2,357 are 1,000 rows."""
    counts = Counter((c.frequency, round(c.recency, 9), round(c.age, 9)) for c in customers)
    rows = np.array(list(counts), dtype=float)
    return rows[:, 0], rows[:, 1], rows[:, 2], np.array(list(counts.values()), dtype=float)


def fit_bg_nbd(customers: Sequence[CustomerSummary]) -> BgNbd:
    """Maximum likelihood fit of BG/NBD (log-parameters keep them positive)."""
    x, t_x, big_t, weight = _grouped(customers)

    def negative_ll(log_params: NDArray[np.float64]) -> float:
        r, alpha, a, b = np.exp(log_params)
        a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
        a2 = gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
        a3 = -(r + x) * np.log(alpha + big_t)
        a4 = np.where(
            x > 0,
            np.log(a) - np.log(b + np.maximum(x, 1) - 1) - (r + x) * np.log(alpha + t_x),
            -np.inf,
        )
        return float(-(weight * (a1 + a2 + np.logaddexp(a3, a4))).sum())

    r, alpha, a, b = _maximise(negative_ll, 4)
    return BgNbd(r, alpha, a, b, -negative_ll(np.log([r, alpha, a, b])))


def fit_gamma_gamma(customers: Sequence[CustomerSummary]) -> GammaGamma:
    """Maximum likelihood fit of Gamma-Gamma on customers with repeat purchases."""
    repeaters = [c for c in customers if c.frequency > 0 and c.repeat_spend > 0]
    x = np.array([c.frequency for c in repeaters], dtype=float)
    m = np.array([c.repeat_spend for c in repeaters], dtype=float)

    def negative_ll(log_params: NDArray[np.float64]) -> float:
        p, q, gamma = np.exp(log_params)
        ll = (
            gammaln(p * x + q)
            - gammaln(p * x)
            - gammaln(q)
            + q * np.log(gamma)
            + (p * x - 1) * np.log(m)
            + p * x * np.log(x)
            - (p * x + q) * np.log(gamma + m * x)
        )
        return float(-ll.sum())

    p, q, gamma = _maximise(negative_ll, 3)
    return GammaGamma(p, q, gamma, -negative_ll(np.log([p, q, gamma])))


def _maximise(negative_ll: object, size: int) -> list[float]:
    """Minimise over log-parameters kept within +-10 (about 4.5e-5 to 22,000), so a
    direction the data does not pin down ends at a bound instead of running away."""
    result = minimize(
        negative_ll, x0=np.zeros(size), method="L-BFGS-B", bounds=[(-10.0, 10.0)] * size
    )
    if not result.success or not all(math.isfinite(v) for v in result.x):
        raise ModelFitError(f"the purchase history does not determine the model ({result.message})")
    return [float(v) for v in np.exp(result.x)]


class ModelFitError(ValueError):
    """The likelihood could not be maximised on this data."""
