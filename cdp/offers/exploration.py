"""Exploration that can be evaluated: which offers an answer shows, drawn at random in
a known way, and the probability with which each shown offer was chosen.

The policy is a mixture: with probability ``1 - epsilon`` the answer is the top of the
ranking by expected value (posterior mean times value); with probability ``epsilon`` it
is one Thompson draw (each candidate's acceptance drawn from its Beta posterior, times
its value, the top taken). Thompson sampling explores where the evidence is thin and
stops wasting showings where it is clear. The probability that an offer is shown (its
*propensity*) is ``(1 - epsilon) * [in the top] + epsilon * P(in the top of a draw)``,
the last estimated by repeating the draw; logged with each showing, it lets another
policy be evaluated offline on what this one showed (inverse propensity scoring). Pure:
numbers in, numbers out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from cdp import cursors
from cdp.errors import BadUserInput

DRAWS = 256  # repetitions that estimate a Thompson draw's probabilities (±3 points)


@dataclass(frozen=True, slots=True)
class Arm:
    """One eligible candidate: its Beta posterior and its value."""

    alpha: float
    beta: float
    value: float


@dataclass(frozen=True, slots=True)
class Choice:
    """The positions (in the greedy order) of the offers shown, and for each position
    the probability that the policy shows it and the share of Thompson draws that put
    it in the top (what another ``epsilon`` would give it: see :func:`shown_chance`)."""

    shown: list[int]
    propensity: list[float]
    explored: bool
    thompson: list[float]


def shown_chance(greedy: bool, thompson: float, epsilon: float) -> float:
    """The probability that the mixture with this ``epsilon`` shows an offer."""
    return (1.0 - epsilon) * float(greedy) + epsilon * thompson


def choose(arms: Sequence[Arm], limit: int, epsilon: float, seed: int) -> Choice:
    """Which of ``arms`` (given in greedy order, best first) to show, ``limit`` at most."""
    count = len(arms)
    top = min(limit, count)
    if count == 0 or top == 0:
        return Choice([], [0.0] * count, False, [0.0] * count)
    greedy = np.zeros(count)
    greedy[:top] = 1.0
    rng = np.random.default_rng(seed)
    alpha = np.array([max(a.alpha, 1e-6) for a in arms])
    beta = np.array([max(a.beta, 1e-6) for a in arms])
    value = np.array([a.value for a in arms])
    drawn = rng.beta(alpha, beta, size=(DRAWS, count)) * value
    # the top of each draw, unordered (draws from continuous posteriors do not tie)
    order = np.argpartition(-drawn, top - 1, axis=1)[:, :top] if top < count else None
    thompson = np.bincount(order.ravel(), minlength=count) / DRAWS if order is not None else greedy
    propensity = (1.0 - epsilon) * greedy + epsilon * thompson
    explored = epsilon > 0.0 and bool(rng.random() < epsilon)
    if explored:
        once = rng.beta(alpha, beta) * value
        shown = [int(i) for i in np.argsort(-once, kind="stable")[:top]]
    else:
        shown = list(range(top))
    # a draw the estimate never saw still had some chance: never log zero for a showing
    floor = epsilon / (DRAWS + 1)
    return Choice(
        shown,
        [max(float(p), floor) if i in shown else float(p) for i, p in enumerate(propensity)],
        explored,
        [float(t) for t in thompson],
    )


@dataclass(frozen=True, slots=True)
class Considered:
    """One eligible candidate of an answer, as logged for offline evaluation: whether
    it was the top of the ranking, its share of Thompson draws, what the model expected
    of it (posterior mean), and its value."""

    offer: str
    greedy: bool
    thompson: float
    expected: float
    value: float


@dataclass(frozen=True, slots=True)
class Decision:
    """One shown offer as the policy chose it: the answer it belonged to, the offer,
    and the probability it had of being shown. Handed to the client with the offer
    (``OfferRecommendation.decision``) and back with ``recordOfferResponse``, so the
    log of responses holds what offline evaluation needs without a write per answer."""

    answer: str
    offer: str
    propensity: float

    def token(self) -> str:
        return cursors.encode(self.answer, self.offer, round(self.propensity * 1_000_000))

    @classmethod
    def read(cls, token: str, offer_id: str) -> Decision:
        try:
            answer, offer, millionths = cursors.decode(token, str, str, int)
        except BadUserInput:
            raise BadUserInput(
                "decision: not a decision this API gave out; pass the recommendation's decision"
            ) from None
        if offer != offer_id:
            raise BadUserInput(f"decision: it was made for offer {offer}, not {offer_id}")
        if not 0 < millionths <= 1_000_000:
            raise BadUserInput("decision: not a decision this API gave out")
        return cls(answer, offer, millionths / 1_000_000)
