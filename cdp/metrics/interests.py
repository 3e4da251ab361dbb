"""Interests: the categories and topics a person keeps coming back to, recent ones first.

Each signal counts by how strong it is (buying says more than adding to a cart, which says
more than a view) and fades with a half-life, so last week's browsing outweighs last
year's. Categories come from ``category`` on product events and on each purchased item;
topics from ``topic`` on ``content_view``. Names are lower-cased so "Shoes" and "shoes"
are one interest.

The fading is kept in a form that events can be added to one at a time (a tally,
:mod:`cdp.metrics.fold`): each signal is stored grown from a fixed epoch,
``strength * 2 ** ((t - epoch) / half-life)``, and the sum is brought down to the
reading's clock once, ``sum * 2 ** ((epoch - now) / half-life)``: the same weight as
fading each signal to ``now``, to the last bits of a float (weights are rounded to four
places). One difference, documented: a signal stamped ahead of the clock (the ingest
allows 24 hours) weighs up to 2.3% more until its time comes, where fading each signal
could stop it at its full strength.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from cdp.metrics.profile import Interaction, oldest_first

SIGNAL_WEIGHTS = {
    "purchase": 3.0,
    "add_to_cart": 2.0,
    "wishlist_add": 2.0,
    "product_view": 1.0,
    "content_view": 1.0,
}
HALF_LIFE_DAYS = 30.0
TOP = 10  # interests kept on the profile
MIN_WEIGHT = 0.5  # one view in the last 30 days is enough for an interest segment
HALF_LIFE = timedelta(days=HALF_LIFE_DAYS)
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
# Signals grow by 2 ** (age / half-life) from the epoch: past this exponent the tally
# moves its epoch on (every 49 years), far from a float's limit of 2 ** 1023.
REBASE_AT = 600.0


# not frozen: the GraphQL type extends it (resolvers/types/metrics.py), typed once
@dataclass(slots=True)
class Interest:
    topic: str
    weight: float


@dataclass(slots=True)
class InterestTally:
    """Each topic's signals, grown from ``epoch`` (see the module's note)."""

    epoch: datetime = EPOCH
    grown: dict[str, float] = field(default_factory=dict)

    def add(self, event: Interaction) -> None:
        strength = SIGNAL_WEIGHTS.get(event.type)
        if strength is None:
            return
        exponent = _half_lives(event.timestamp - self.epoch)
        if exponent > REBASE_AT:  # the sums shrink by the same factor the epoch moves
            shift = float(int(exponent))
            self.epoch += HALF_LIFE * shift
            self.grown = {topic: value * 2.0**-shift for topic, value in self.grown.items()}
            exponent -= shift
        signal = strength * 2.0**exponent
        for topic in _topics(event):
            self.grown[topic] = self.grown.get(topic, 0.0) + signal

    def strongest(self, now: datetime) -> list[Interest]:
        """The strongest interests as of ``now``, heaviest first (ties by name)."""
        fade = 2.0 ** -_half_lives(now - self.epoch)
        ranked = sorted(
            ((topic, value * fade) for topic, value in self.grown.items()),
            key=lambda item: (-item[1], item[0]),
        )
        return [Interest(topic, round(weight, 4)) for topic, weight in ranked[:TOP]]


def _half_lives(span: timedelta) -> float:
    return span / HALF_LIFE


def interests(history: Sequence[Interaction], now: datetime) -> list[Interest]:
    """The strongest interests, heaviest first (ties by name)."""
    tally = InterestTally()
    for event in oldest_first(history):
        tally.add(event)
    return tally.strongest(now)


def _topics(event: Interaction) -> Iterator[str]:
    props = event.properties
    names: list[object] = [props.get("topic"), props.get("category")]
    items = props.get("items")
    if isinstance(items, list):
        names += [item.get("category") for item in items if isinstance(item, dict)]
    seen: set[str] = set()
    for name in names:
        if isinstance(name, str) and name.strip():
            topic = name.strip().lower()[:64]
            if topic not in seen:
                seen.add(topic)
                yield topic
