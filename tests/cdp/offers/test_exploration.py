"""The exploring policy shows offers at random in a known way, and says how likely each
showing was: what offline evaluation needs."""

import pytest

from cdp.offers.exploration import Arm, choose

# A proven offer (accepted 300 times in 1,000 showings), a new one with thin evidence,
# and one nobody takes (2 in 1,000), all worth the same.
PROVEN, NEW, DUD = Arm(300, 700, 10.0), Arm(1, 19, 10.0), Arm(2, 998, 10.0)


def test_without_exploration_the_top_is_shown_with_certainty() -> None:
    choice = choose([PROVEN, NEW, DUD], limit=1, epsilon=0.0, seed=7)
    assert (choice.shown, choice.propensity, choice.explored) == ([0], [1.0, 0.0, 0.0], False)


def test_propensities_of_a_draw_add_up_to_the_places_and_follow_the_evidence() -> None:
    choice = choose([PROVEN, NEW, DUD], limit=2, epsilon=1.0, seed=7)
    assert sum(choice.propensity) == pytest.approx(2.0, abs=0.01)
    proven, new, dud = choice.propensity
    assert proven > 0.99  # a 30% offer is nearly always in the top two
    assert 0.5 < new < 1.0  # thin evidence: often drawn high, so it keeps being tried
    assert dud < 0.05


def test_the_mixture_shows_the_top_mostly_and_logs_the_mixed_probability() -> None:
    runs = [choose([NEW, DUD, PROVEN], limit=1, epsilon=0.2, seed=s) for s in range(400)]
    shown_first = sum(1 for run in runs if run.shown == [0]) / len(runs)
    assert 0.72 < shown_first < 0.88  # the greedy top, unless this answer explores (a fifth)
    first = runs[0].propensity[0]
    assert 0.8 <= first <= 1.0  # (1 - 0.2) for being the top, plus its share of draws
    explored = [run for run in runs if run.explored]
    assert 40 <= len(explored) <= 120  # about a fifth of 400 answers drew instead


def test_the_same_seed_draws_the_same_answer() -> None:
    arms = [Arm(1, 19, 10.0 + i) for i in range(8)]
    assert choose(arms, 3, 1.0, seed=42) == choose(arms, 3, 1.0, seed=42)
