from datetime import UTC, datetime

import pytest

from cdp.errors import BadUserInput
from cdp.profile.timeline import Position, build_query, decode_cursor, encode_cursor


def test_a_cursor_names_one_exact_position() -> None:
    position = Position(datetime(2026, 3, 1, 9, 30, 0, 123000, tzinfo=UTC), "web-1")
    assert decode_cursor(encode_cursor(position)) == position


@pytest.mark.parametrize("cursor", ["nonsense", "", "W10", "eyJhIjoxfQ"])
def test_a_cursor_the_api_never_gave_out_is_a_clear_error(cursor: str) -> None:
    with pytest.raises(BadUserInput, match="not a cursor"):
        decode_cursor(cursor or "=")


@pytest.mark.parametrize("first", [-1, 501])
def test_page_sizes_are_bounded(first: int) -> None:
    with pytest.raises(BadUserInput, match="first"):
        build_query(first=first, after=None, channels=None, types=None, since=None, until=None)


def test_a_window_that_ends_before_it_starts_is_refused() -> None:
    with pytest.raises(BadUserInput, match="since"):
        build_query(
            first=10,
            after=None,
            channels=None,
            types=None,
            since=datetime(2026, 3, 2, tzinfo=UTC),
            until=datetime(2026, 3, 1, tzinfo=UTC),
        )
