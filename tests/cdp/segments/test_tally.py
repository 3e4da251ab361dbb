"""A rule's event count kept in a tally, carried on through BSON and pruned at an earlier
clock, is the count over the whole history, whatever the split."""

from datetime import UTC, datetime, timedelta
from typing import Any

import bson
from bson.codec_options import CodecOptions
from hypothesis import given, settings
from hypothesis import strategies as st

from cdp.segments.evaluate import EventFacts, Subject, predicate
from cdp.segments.rules import EventCount
from cdp.segments.tally import RuleTally, carryable, counted_leaves

START = datetime(2026, 1, 1, tzinfo=UTC)
CODEC: CodecOptions[dict[str, Any]] = CodecOptions(tz_aware=True)
TENTS_30 = EventCount("product_view", (("category", "tents"),), 2, None, 30)
ANY_VIEW = EventCount("product_view", (), None, 3, None)
TEA_ITEMS_7 = EventCount("purchase", (("items.category", "tea"),), 1, None, 7)
LEAVES = counted_leaves([TENTS_30, ANY_VIEW, TEA_ITEMS_7])

facts = st.builds(
    EventFacts,
    type=st.sampled_from(["product_view", "purchase", "page_view"]),
    timestamp=st.integers(0, 60 * 24 * 60).map(lambda m: START + timedelta(minutes=m)),
    properties=st.fixed_dictionaries(
        {},
        optional={
            "category": st.sampled_from(["tents", "tea", "Tents"]),
            "items": st.lists(st.fixed_dictionaries({"category": st.sampled_from(["tea", "x"])})),
        },
    ),
)


def stored(tally: RuleTally) -> RuleTally:
    raw = bson.decode(bson.encode({"t": tally.to_document()}), CODEC)
    back = RuleTally.from_document(raw["t"], LEAVES)
    assert back is not None
    return back


@settings(max_examples=300, deadline=None)
@given(history=st.lists(facts, max_size=40), split=st.floats(0, 1), gap=st.floats(0, 10))
def test_a_count_carried_on_is_the_count_over_the_whole_history(
    history: list[EventFacts], split: float, gap: float
) -> None:
    history.sort(key=lambda e: e.timestamp)
    cut = int(len(history) * split)
    first_clock = (history[cut - 1].timestamp if cut else START) + timedelta(days=gap)
    now = max([first_clock, *(e.timestamp for e in history)]) + timedelta(days=gap / 2)

    tally = RuleTally.empty(LEAVES)
    for fact in history[:cut]:
        tally.add(fact.type, fact.timestamp, fact.properties)
    tally.prune(first_clock)
    tally = stored(tally)
    for fact in history[cut:]:
        tally.add(fact.type, fact.timestamp, fact.properties)
    tally.prune(now)

    for rule in (TENTS_30, ANY_VIEW, TEA_ITEMS_7):
        fits = predicate(rule)
        from_history = Subject({}, {}, frozenset(), history)
        from_tally = Subject({}, {}, frozenset(), [], counts=tally.count)
        assert fits(from_tally, now) == fits(from_history, now)
        assert tally.count(rule, now) == sum(
            1
            for e in history
            if e.type == rule.type
            and (rule.within_days is None or e.timestamp >= now - timedelta(rule.within_days))
            and all(
                e.properties.get(path) == value
                or any(i.get("category") == value for i in e.properties.get("items", []))
                for path, value in rule.where
            )
        )


def test_a_stored_tally_without_a_rule_created_since_is_not_read() -> None:
    document = RuleTally.empty(counted_leaves([TENTS_30])).to_document()
    assert RuleTally.from_document(document, counted_leaves([TENTS_30])) is not None
    assert RuleTally.from_document(document, LEAVES) is None


def test_a_rule_counting_segment_entries_is_not_answered_by_a_fold() -> None:
    entered = EventCount("segment_entered", (), 1, None, None)
    assert carryable(counted_leaves([TENTS_30]))
    assert not carryable(counted_leaves([TENTS_30, entered]))
