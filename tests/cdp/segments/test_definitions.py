"""Built-in segments are rules in the user's language, and each is documented."""

from pathlib import Path

from cdp.segments.definitions import BUILT_IN, interest_segment
from cdp.segments.rules import parse_rule, rule_to_data

README = (Path(__file__).resolve().parents[3] / "README.md").read_text()


def test_every_built_in_segment_is_in_the_readme_table() -> None:
    missing = [s.id for s in BUILT_IN if f"`{s.id}`" not in README]
    assert missing == []


def test_built_in_rules_round_trip_like_user_rules() -> None:
    for segment in BUILT_IN:
        assert parse_rule(rule_to_data(segment.rule)) == segment.rule


def test_ids_are_unique_and_interest_ids_carry_the_topic() -> None:
    assert len({s.id for s in BUILT_IN}) == len(BUILT_IN)
    assert interest_segment("trail running").id == "interest:trail running"
