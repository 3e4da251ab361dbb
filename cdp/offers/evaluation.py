"""Offline evaluation: what another exploration policy would have earned, estimated on
the answers this one logged, before any customer sees it.

Each logged answer holds every eligible candidate with whether it was the top of the
ranking, its share of Thompson draws and what the model expected of it (``q``); the
responses tied to it say which shown offers were accepted. For a target mixture with
share ``epsilon'``, an offer's chance of being shown is ``pi'(a) = (1 - epsilon') *
[top] + epsilon' * thompson`` (:func:`cdp.offers.exploration.shown_chance`), and the
logging policy's was ``pi(a)`` likewise. Per answer, with ``r`` 1 for an accepted offer:

- inverse propensity scoring: ``sum over shown a of r(a) * pi'(a) / pi(a)``;
- doubly robust: ``sum over eligible a of pi'(a) * q(a)`` (the model's view) plus the
  IPS correction ``sum over shown a of pi'(a) / pi(a) * (r(a) - q(a))``.

Both estimate expected acceptances per answer; the mean over answers comes with a 95%
normal interval. They assume each offer's acceptance does not depend on what else was
shown beside it, and that the client showed every offer of an answer it recorded as
shown. Pure; the command ``cdp offers evaluate`` reads the log (Pega and Vowpal
Wabbit's ``--cb`` evaluation are the references).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cdp.offers.exploration import Considered, shown_chance

Z95 = 1.959964


@dataclass(frozen=True, slots=True)
class LoggedAnswer:
    exploration: float  # the logging policy's epsilon
    candidates: Sequence[Considered]
    shown: frozenset[str]
    accepted: frozenset[str]


@dataclass(frozen=True, slots=True)
class Interval:
    mean: float
    low: float
    high: float


@dataclass(frozen=True, slots=True)
class Estimate:
    exploration: float
    answers: int
    ips: Interval
    doubly_robust: Interval


def evaluate(answers: Iterable[LoggedAnswer], exploration: float) -> Estimate:
    """Expected acceptances per answer had the policy explored with ``exploration``."""
    ips: list[float] = []
    dr: list[float] = []
    for answer in answers:
        weighted = direct = correction = 0.0
        for c in answer.candidates:
            target = shown_chance(c.greedy, c.thompson, exploration)
            direct += target * c.expected
            if c.offer not in answer.shown:
                continue
            logged = shown_chance(c.greedy, c.thompson, answer.exploration)
            if logged <= 0.0:  # shown although it could not be: a corrupt log entry
                continue
            reward = 1.0 if c.offer in answer.accepted else 0.0
            weighted += reward * target / logged
            correction += target / logged * (reward - c.expected)
        ips.append(weighted)
        dr.append(direct + correction)
    return Estimate(exploration, len(ips), _interval(ips), _interval(dr))


def observed(answers: Iterable[LoggedAnswer]) -> Interval:
    """Acceptances per answer the logging policy actually got."""
    return _interval([float(len(a.accepted & a.shown)) for a in answers])


def _interval(values: Sequence[float]) -> Interval:
    n = len(values)
    if n == 0:
        return Interval(0.0, 0.0, 0.0)
    mean = sum(values) / n
    if n == 1:
        return Interval(mean, mean, mean)
    variance = sum((v - mean) ** 2 for v in values) / (n - 1)
    half = Z95 * math.sqrt(variance / n)
    return Interval(mean, mean - half, mean + half)
