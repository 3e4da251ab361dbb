"""Compiling the segments a refresh decides happens once per set of definitions."""

from dataclasses import replace

from cdp.profile.compute import Evaluation
from cdp.segments.definitions import BUILT_IN, SegmentDefinition, SegmentKind, interest_segment
from cdp.segments.rules import parse_rule

TENT_BROWSERS = SegmentDefinition(
    "seg-tents",
    "Tent browsers",
    "",
    SegmentKind.USER,
    parse_rule(
        {"events": {"type": "product_view", "where": [{"path": "category", "value": "tents"}]}}
    ),
)


def test_the_same_definitions_are_compiled_once_and_a_changed_one_again() -> None:
    """Every single event's refresh asks with the segments as the store keeps them: the
    same objects until a segment's document changes."""
    segments = [*BUILT_IN, TENT_BROWSERS, interest_segment("tents")]
    first = Evaluation.decided_by_refresh(segments)
    assert first.definitions == (*BUILT_IN, TENT_BROWSERS)  # interests follow the metrics
    assert "seg-tents" in dict(first.segments)
    assert Evaluation.decided_by_refresh(list(segments)) is first

    edited = replace(TENT_BROWSERS, rule=parse_rule({"events": {"type": "product_view"}}))
    again = Evaluation.decided_by_refresh([*BUILT_IN, edited])
    assert again is not first
    assert again.definitions[-1] is edited
    assert again.counted != first.counted
