"""Back-testing co-purchase offers on a basket history, against a popularity baseline.

A basket file (one basket per line, items separated by commas, as in the public
Groceries data set) has no customers, so: the first 80% of baskets train, and in each
later basket of two or more items the last item is hidden and recommended for from the
others. Reported at 3 and at 10: hit rate (share of cases with the hidden item among the
recommendations) and precision (share of recommendations that were hidden items). The
co-purchase list is ranked by rule confidence and filled up with popular items when
rules run out, so both lists are always k long; the baseline is the most popular items
the customer does not have. ``cdp offers backtest --baskets FILE`` runs it; the
benchmark (``bench/offer_evaluation.py``) also runs it on synthetic customers.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cdp.offers.copurchase import CoPurchaseRule, mine_rules, offers_for

TRAIN_SHARE = 0.8
Basket = frozenset[str]


@dataclass(frozen=True, slots=True)
class Case:
    history: set[str]
    hidden: set[str]


def synthetic(customers: int = 3_000, seed: int = 3) -> tuple[list[Basket], list[Case]]:
    """Customers who each follow one or two of 30 bundles of 4 related products, every
    basket drawing from a long Zipf tail too; each one's last basket is hidden."""
    rng = random.Random(seed)
    bundles = [[f"b{b}-{i}" for i in range(4)] for b in range(30)]
    tail = [f"t{i}" for i in range(400)]
    weights = [1 / (rank + 1) for rank in range(len(tail))]
    train: list[Basket] = []
    cases: list[Case] = []
    for _ in range(customers):
        liked = rng.sample(bundles, rng.choice([1, 1, 2]))
        baskets = []
        for _ in range(rng.randint(2, 6)):
            bundle = rng.choice(liked)
            basket = set(rng.sample(bundle, rng.randint(1, 3)))
            basket.update(rng.choices(tail, weights, k=rng.randint(0, 3)))
            baskets.append(frozenset(basket))
        train += baskets[:-1]
        history = set().union(*baskets[:-1])
        hidden = set(baskets[-1]) - history
        if hidden:
            cases.append(Case(history, hidden))
    return train, cases


def from_lines(lines: Iterable[str]) -> tuple[list[Basket], list[Case]]:
    """Training baskets and hidden-item cases from a basket file's lines, in order."""
    rows = [list(dict.fromkeys(i.strip() for i in line.split(",") if i.strip())) for line in lines]
    rows = [row for row in rows if row]
    cut = int(len(rows) * TRAIN_SHARE)
    cases = [Case(set(row[:-1]), {row[-1]}) for row in rows[cut:] if len(row) >= 2]
    return [frozenset(row) for row in rows[:cut]], cases


def evaluate(
    train: Sequence[Basket], cases: Sequence[Case], min_count: int, min_confidence: float
) -> dict[str, dict[int, tuple[float, float]]]:
    """Per recommender, at k = 3 and 10: (hit rate, precision); "rules": how many."""
    rules = mine_rules(train, min_count, min_confidence, max_antecedent=2)
    popular = [item for item, _ in Counter(i for b in train for i in b).most_common()]
    scores: dict[str, dict[int, tuple[float, float]]] = {}
    for name in ("co-purchase", "popularity"):
        scores[name] = {}
        for k in (3, 10):
            hits = precision = 0.0
            for case in cases:
                picked = _recommend(name, rules, popular, case.history, k)
                found = len(set(picked) & case.hidden)
                hits += found > 0
                precision += found / k
            scores[name][k] = (hits / len(cases), precision / len(cases))
    scores["rules"] = {0: (float(len(rules)), 0.0)}
    return scores


def _recommend(
    name: str, rules: list[CoPurchaseRule], popular: list[str], history: set[str], k: int
) -> list[str]:
    picked: list[str] = []
    if name == "co-purchase":
        ranked = sorted(
            offers_for(rules, history).values(), key=lambda r: (-r.confidence, -r.count)
        )
        picked = [rule.consequent for rule in ranked[:k]]
    for item in popular:
        if len(picked) == k:
            break
        if item not in history and item not in picked:
            picked.append(item)
    return picked
