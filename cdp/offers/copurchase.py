"""Co-purchase rules mined from baskets: "people who bought X and Y also bought Z".

A basket is the set of skus of one purchase event. Frequent itemsets come from mlxtend's
``fpgrowth`` and rules from its ``association_rules`` (the well-kept reference
implementations; the issue names them). Only rules with one item on the right are kept:
that item is what gets offered.

The minimum support is a *count* of baskets, not a fraction: a rule sitting exactly on a
fractional threshold can flip with floating-point rounding, a count cannot. mlxtend
takes a fraction, so it is given a threshold half a basket below the count and every
itemset is then checked against the count exactly.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pandas as pd
from mlxtend.frequent_patterns import association_rules, fpgrowth
from mlxtend.preprocessing import TransactionEncoder

MAX_ANTECEDENT = 3


@dataclass(frozen=True, slots=True)
class CoPurchaseRule:
    antecedent: tuple[str, ...]  # sorted skus
    consequent: str
    count: int  # baskets holding the antecedent and the consequent
    antecedent_count: int  # baskets holding the antecedent
    support: float
    confidence: float
    lift: float
    source: str = "purchase"  # "purchase": baskets; "view": the products each person viewed

    def sentence(self) -> str:
        """What a support agent can read aloud."""
        left = " and ".join(self.antecedent)
        if self.source == "view":
            return (
                f"{self.confidence:.0%} of the {self.antecedent_count:,} people who viewed "
                f"{left} also viewed {self.consequent}"
            )
        return (
            f"{self.confidence:.0%} of the {self.antecedent_count:,} orders with {left} "
            f"also had {self.consequent}"
        )


def mine_rules(
    baskets: Sequence[Iterable[str]],
    min_support_count: int,
    min_confidence: float,
    max_antecedent: int = MAX_ANTECEDENT,
    source: str = "purchase",
) -> list[CoPurchaseRule]:
    """Rules with one consequent, strongest (lift, then confidence, then count) first."""
    rows = [sorted(set(basket)) for basket in baskets]
    rows = [row for row in rows if row]
    total = len(rows)
    if total < min_support_count or min_support_count < 1:
        return []  # fewer baskets than a rule needs: nothing can be frequent
    encoder = TransactionEncoder()
    matrix = encoder.fit(rows).transform(rows, sparse=True)
    frame = pd.DataFrame.sparse.from_spmatrix(matrix, columns=encoder.columns_)
    threshold = max((min_support_count - 0.5) / total, 1e-12)
    itemsets = fpgrowth(frame, min_support=threshold, use_colnames=True, max_len=max_antecedent + 1)
    if itemsets.empty:
        return []
    itemsets["count"] = (itemsets["support"] * total).round().astype(int)
    itemsets = itemsets[itemsets["count"] >= min_support_count].reset_index(drop=True)
    if itemsets.empty or itemsets["itemsets"].map(len).max() < 2:
        return []
    counts = {frozenset(row.itemsets): int(row.count) for row in itemsets.itertuples()}
    found = association_rules(
        itemsets[["support", "itemsets"]],
        num_itemsets=total,
        metric="confidence",
        min_threshold=min_confidence,
        return_metrics=["support", "confidence", "lift"],  # the rest are not used
    )
    rules = []
    for row in found.itertuples():
        if len(row.consequents) != 1:
            continue
        antecedent = frozenset(row.antecedents)
        consequent = next(iter(row.consequents))
        together = counts[antecedent | {consequent}]
        alone = counts[antecedent]
        consequent_alone = counts[frozenset({consequent})]
        rules.append(
            CoPurchaseRule(
                antecedent=tuple(sorted(antecedent)),
                consequent=consequent,
                count=together,
                antecedent_count=alone,
                support=round(together / total, 6),
                confidence=round(together / alone, 6),
                lift=round(together * total / (alone * consequent_alone), 6),
                source=source,
            )
        )
    rules = [r for r in rules if r.confidence >= min_confidence]
    return sorted(
        rules, key=lambda r: (-r.lift, -r.confidence, -r.count, r.antecedent, r.consequent)
    )


def offers_for(rules: Sequence[CoPurchaseRule], bought: set[str]) -> dict[str, CoPurchaseRule]:
    """For each sku the person has not bought, the most confident rule whose left side
    they bought entirely (ties: more evidence, then longer left side)."""
    best: dict[str, CoPurchaseRule] = {}
    for rule in rules:
        if rule.consequent in bought or not set(rule.antecedent) <= bought:
            continue
        current = best.get(rule.consequent)
        key = (rule.confidence, rule.count, len(rule.antecedent))
        if current is None or key > (current.confidence, current.count, len(current.antecedent)):
            best[rule.consequent] = rule
    return best
