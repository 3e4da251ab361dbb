"""Offline evaluation recovers what another policy earns, from what this one logged.

A simulated shop: four offers with true acceptance rates the model only half knows.
The logging policy explores half the time; the estimates for never exploring and for
always exploring must land on the values those policies really have, computed exactly
from the same probabilities."""

import random

import pytest

from cdp.offers.evaluation import LoggedAnswer, evaluate, observed
from cdp.offers.exploration import Arm, Considered, choose, shown_chance

TRUE = {"stove": 0.30, "lamp": 0.10, "mat": 0.20, "mug": 0.02}
# what the model believes (posteriors): it overrates the lamp and underrates the mat
ARMS = {
    "lamp": Arm(8, 12, 1.0),
    "stove": Arm(6, 14, 1.0),
    "mat": Arm(2, 18, 1.0),
    "mug": Arm(1, 19, 1.0),
}
ORDER = ["lamp", "stove", "mat", "mug"]  # greedy order by expected value
LOGGING, PLACES = 0.5, 2


def simulate(answers: int, seed: int) -> list[LoggedAnswer]:
    rng = random.Random(seed)
    arms = [ARMS[o] for o in ORDER]
    logged = []
    for n in range(answers):
        choice = choose(arms, PLACES, LOGGING, seed=seed * 1_000_003 + n)
        shown = frozenset(ORDER[i] for i in choice.shown)
        accepted = frozenset(o for o in shown if rng.random() < TRUE[o])
        candidates = [
            Considered(o, i < PLACES, choice.thompson[i], a.alpha / (a.alpha + a.beta), 1.0)
            for i, (o, a) in enumerate(zip(ORDER, arms, strict=True))
        ]
        logged.append(LoggedAnswer(LOGGING, candidates, shown, accepted))
    return logged


def truth(answer: LoggedAnswer, exploration: float) -> float:
    """Expected acceptances per answer of the target policy, exactly."""
    return sum(
        shown_chance(c.greedy, c.thompson, exploration) * TRUE[c.offer] for c in answer.candidates
    )


@pytest.mark.parametrize("target", [0.0, 1.0])
def test_both_estimators_find_the_value_of_a_policy_never_run(target: float) -> None:
    logged = simulate(6000, seed=3)
    estimate = evaluate(logged, target)
    expected = truth(logged[0], target)
    assert estimate.answers == 6000
    assert estimate.ips.low <= expected <= estimate.ips.high
    assert estimate.doubly_robust.low <= expected <= estimate.doubly_robust.high
    # the model's own view alone (the direct method) would be off: it overrates the lamp
    direct = sum(
        shown_chance(c.greedy, c.thompson, target) * c.expected for c in logged[0].candidates
    )
    assert abs(direct - expected) > 0.05


def test_the_logging_policy_is_estimated_as_what_it_observed() -> None:
    logged = simulate(4000, seed=5)
    estimate = evaluate(logged, LOGGING)
    seen = observed(logged)
    assert estimate.ips.mean == pytest.approx(seen.mean, abs=1e-9)  # weights are all 1
    assert seen.low <= truth(logged[0], LOGGING) <= seen.high


def test_an_empty_log_estimates_nothing() -> None:
    estimate = evaluate([], 0.2)
    assert (estimate.answers, estimate.ips.mean, estimate.doubly_robust.mean) == (0, 0.0, 0.0)
