"""Off-policy evaluation against the truth, in a simulated shop.

Eight offers with known true acceptance rates; the model's beliefs (Beta posteriors) are
partly wrong (it overrates two offers and underrates two). The running policy explores
a share of its answers (Thompson draws) and logs every answer's candidates with their
chances of being shown; simulated customers accept each shown offer at its true rate.
From that log alone, `cdp.offers.evaluation` estimates what other exploration shares
would earn (acceptances per answer), by inverse propensity scoring and doubly robust,
each with a 95% interval; the truth is computed exactly from the same probabilities.
The direct method (the model's own view) is shown for contrast.

Run: ``python -m bench.offer_policy_evaluation`` (``--answers 20000``).
"""

from __future__ import annotations

import argparse
import random
import time

from bench.service import today
from cdp.offers.evaluation import LoggedAnswer, evaluate
from cdp.offers.exploration import Arm, Considered, choose, shown_chance

TRUE = [0.30, 0.02, 0.35, 0.12, 0.01, 0.30, 0.08, 0.01]  # two greedy picks are duds
BELIEF = [(6, 14), (9, 11), (2, 18), (5, 15), (4, 16), (3, 17), (2, 18), (1, 19)]
VALUES = [40.0, 25.0, 30.0, 20.0, 60.0, 15.0, 35.0, 50.0]
PLACES = 3


def simulate(answers: int, logging: float, seed: int) -> list[LoggedAnswer]:
    rng = random.Random(seed)
    arms = [Arm(a, b, v) for (a, b), v in zip(BELIEF, VALUES, strict=True)]
    order = sorted(range(len(arms)), key=lambda i: -(arms[i].alpha / 20) * arms[i].value)
    ranked = [arms[i] for i in order]
    logged = []
    for n in range(answers):
        choice = choose(ranked, PLACES, logging, seed=seed * 7_919 + n)
        names = [f"offer-{i}" for i in order]
        shown = frozenset(names[i] for i in choice.shown)
        accepted = frozenset(names[i] for i in choice.shown if rng.random() < TRUE[order[i]])
        candidates = [
            Considered(
                names[i], i < PLACES, choice.thompson[i], a.alpha / (a.alpha + a.beta), a.value
            )
            for i, a in enumerate(ranked)
        ]
        logged.append(LoggedAnswer(logging, candidates, shown, accepted))
    return logged


def truth(logged: list[LoggedAnswer], share: float) -> float:
    """Expected acceptances per answer of the target policy, exactly, averaged over the
    answers (each answer's draw shares are estimates of the same probabilities)."""
    rate = {f"offer-{i}": t for i, t in enumerate(TRUE)}
    total = sum(
        shown_chance(c.greedy, c.thompson, share) * rate[c.offer]
        for answer in logged
        for c in answer.candidates
    )
    return total / len(logged)


def main(answers: int, logging: float) -> None:
    started = time.perf_counter()
    logged = simulate(answers, logging, seed=17)
    print("| date | log | target share | truth | IPS (95%) | doubly robust (95%) | direct method |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for share in (0.0, 0.1, 0.5, 1.0):
        found = evaluate(logged, share)
        real = truth(logged, share)
        direct = sum(
            shown_chance(c.greedy, c.thompson, share) * c.expected
            for answer in logged
            for c in answer.candidates
        ) / len(logged)
        ips, dr = found.ips, found.doubly_robust
        print(
            f"| {today()} | {answers:,} answers, logging share {logging} | {share} | {real:.4f} "
            f"| {ips.mean:.4f} ({ips.low:.4f} to {ips.high:.4f}) "
            f"| {dr.mean:.4f} ({dr.low:.4f} to {dr.high:.4f}) | {direct:.4f} |"
        )
    print(f"({time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=20_000)
    parser.add_argument("--logging", type=float, default=0.3, help="the running policy's share")
    args = parser.parse_args()
    main(args.answers, args.logging)
