"""Is a segment big enough to act on?

The rule: **at least 100 members**. Why 100: it is the size at which the share of the
base a segment holds is known to within about 20% of itself at 95% confidence, whatever
the size of the base (the half-width of the interval is about 1.96 * sqrt((1 - p) / n)
of the share, under 0.2 from n = 96). Below that, a campaign's result on the segment
says more about chance than about the people. With the seed examples: 1 of 10 is not a
segment, 100 of 1,000 just is (10.0%, interval 8.3% to 12.0%), 1,000 of 10,000 clearly
is (9.4% to 10.6%). The reason shown always carries the count, the share and its 95%
Wilson interval (scipy's ``binomtest(...).proportion_ci(method="wilson")``, which stays
sensible near 0% and 100% where the textbook normal interval does not), so an analyst
can judge a borderline case.
"""

from __future__ import annotations

from dataclasses import dataclass

from scipy.stats import binomtest

MIN_MEMBERS = 100
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
            False, f"{members} members of {base:,} persons: nobody to act on", None, None, None
        )
    share = members / base
    interval = binomtest(members, base).proportion_ci(confidence_level=CONFIDENCE, method="wilson")
    low, high = float(interval.low), float(interval.high)
    shown = f"{members:,} of {base:,} persons ({share:.1%}, 95% interval {low:.1%} to {high:.1%})"
    if members < MIN_MEMBERS:
        return Significance(False, f"{shown}: fewer than {MIN_MEMBERS} members", share, low, high)
    return Significance(True, f"{shown}: at least {MIN_MEMBERS} members", share, low, high)
