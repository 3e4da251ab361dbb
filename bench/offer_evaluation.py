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
import time
from pathlib import Path

from cdp.offers.backtest import evaluate, from_lines, synthetic


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
        train, cases = from_lines(args.baskets.read_text().splitlines())
        scores = evaluate(train, cases, args.min_count, args.min_confidence)
        report(
            f"{args.baskets.name}: {len(train):,} baskets, {len(cases):,} cases",
            scores,
            time.perf_counter() - started,
        )


if __name__ == "__main__":
    main()
