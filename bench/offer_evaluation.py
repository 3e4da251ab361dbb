"""Offline evaluation of the co-purchase recommender against a popularity baseline.

Two data sets:

- **synthetic customers** with a known structure: each customer follows one or two of 30
  "bundles" of 4 related products (tent, mat, stove, lamp...) and every basket also draws
  from a long tail of 400 products whose popularity follows Zipf's law. Each customer's
  last basket is hidden; rules are mined from everyone's other baskets; each customer
  gets recommendations from what they bought before.
- **a basket file** (``--baskets FILE``: one basket per line, items separated by commas,
  as in the public Groceries data set) has no customers, so: the first 80% of baskets
  train, and in each later basket of two or more items the last item is hidden and
  recommended for from the others.

Reported at 3 and at 10: hit rate (share of customers with at least one hidden item
among the recommendations) and precision (share of recommendations that were hidden
items). The co-purchase list is ranked by rule confidence and filled up with popular
items when rules run out, so both lists are always k long; the baseline is the most
popular items the customer does not have.

Run: ``python -m bench.offer_evaluation`` (``--baskets groceries.csv``).
"""

from __future__ import annotations

import argparse
import platform
import random
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cdp.offers.copurchase import CoPurchaseRule, mine_rules, offers_for

Basket = frozenset[str]


@dataclass(frozen=True, slots=True)
class Case:
    history: set[str]
    hidden: set[str]


def synthetic(customers: int = 3_000, seed: int = 3) -> tuple[list[Basket], list[Case]]:
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


def from_file(path: Path) -> tuple[list[Basket], list[Case]]:
    baskets = [
        frozenset(item.strip() for item in line.split(",") if item.strip())
        for line in path.read_text().splitlines()
    ]
    baskets = [b for b in baskets if b]
    cut = int(len(baskets) * 0.8)
    cases = []
    for line in path.read_text().splitlines()[cut:]:
        items = list(dict.fromkeys(i.strip() for i in line.split(",") if i.strip()))
        if len(items) >= 2:
            cases.append(Case(set(items[:-1]), {items[-1]}))
    return baskets[:cut], cases


def evaluate(
    train: Sequence[Basket], cases: Sequence[Case], min_count: int, min_confidence: float
) -> dict[str, dict[int, tuple[float, float]]]:
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


def report(label: str, scores: dict[str, dict[int, tuple[float, float]]], seconds: float) -> None:
    for name in ("co-purchase", "popularity"):
        s = scores[name]
        print(
            f"| {time.strftime('%Y-%m-%d')} | {platform.machine()} | {label} | {name} "
            f"| {s[3][0]:.1%} | {s[3][1]:.1%} | {s[10][0]:.1%} | {s[10][1]:.1%} "
            f"| {int(scores['rules'][0][0]):,} rules, {seconds:.1f} s |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baskets", type=Path, help="one basket per line, items by commas")
    parser.add_argument("--min-count", type=int, default=20)
    parser.add_argument("--min-confidence", type=float, default=0.1)
    args = parser.parse_args()
    print(
        "| date | machine | data | recommender | hit@3 | precision@3 | hit@10 "
        "| precision@10 | mining |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    started = time.perf_counter()
    train, cases = synthetic()
    scores = evaluate(train, cases, args.min_count, args.min_confidence)
    report(
        f"synthetic: {len(train):,} baskets, {len(cases):,} customers",
        scores,
        time.perf_counter() - started,
    )
    if args.baskets:
        started = time.perf_counter()
        train, cases = from_file(args.baskets)
        scores = evaluate(train, cases, args.min_count, args.min_confidence)
        report(
            f"{args.baskets.name}: {len(train):,} baskets, {len(cases):,} cases",
            scores,
            time.perf_counter() - started,
        )


if __name__ == "__main__":
    main()
