"""Is a segment big enough to act on?

The rule: a segment is significant when it has at least ``MIN_MEMBERS`` members **and**
its share of the base is known to within ``MAX_RELATIVE_ERROR`` of itself (the half-width
of the 95% Wilson interval divided by the share). The first part stops decisions on a
handful of people; the second stops a large-looking count in a tiny base. With the seed
examples: 1 of 10 is not a segment (1 member), 100 of 1,000 just is (10.0%, interval
8.3% to 12.0%, within 19% of the share), 1,000 of 10,000 clearly is (within 6%).
The interval is scipy's ``binomtest(...).proportion_ci(method="wilson")``, which behaves
at shares near 0 and 1 where the textbook normal interval does not.
"""

from __future__ import annotations

from dataclasses import dataclass

from scipy.stats import binomtest

MIN_MEMBERS = 100
MAX_RELATIVE_ERROR = 0.2
CONFIDENCE = 0.95


@dataclass(frozen=True, slots=True)
class Significance:
    significant: bool
    reason: str
    share: float | None
    low: float | None
    high: float | None


def significance(members: int, base: int) -> Significance:
    if base == 0 or members == 0:
        return Significance(
            False, f"{members} members of {base} persons: nobody to act on", None, None, None
        )
    share = members / base
    interval = binomtest(members, base).proportion_ci(confidence_level=CONFIDENCE, method="wilson")
    low, high = float(interval.low), float(interval.high)
    error = (high - low) / 2 / share
    shown = f"{members:,} of {base:,} persons ({share:.1%}, 95% interval {low:.1%} to {high:.1%})"
    if members < MIN_MEMBERS:
        return Significance(False, f"{shown}: fewer than {MIN_MEMBERS} members", share, low, high)
    if error > MAX_RELATIVE_ERROR:
        return Significance(
            False,
            f"{shown}: the share is uncertain by {error:.0%} of itself "
            f"(more than {MAX_RELATIVE_ERROR:.0%})",
            share,
            low,
            high,
        )
    return Significance(
        True,
        f"{shown}: at least {MIN_MEMBERS} members, share known within {error:.0%}",
        share,
        low,
        high,
    )
