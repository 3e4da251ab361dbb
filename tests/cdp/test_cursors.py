"""One cursor codec for every list: opaque, round-trips, refuses what it did not make."""

from datetime import UTC, datetime

import pytest

from cdp import cursors
from cdp.errors import BadUserInput

AT = datetime(2026, 3, 1, 9, 30, 15, 123000, tzinfo=UTC)


def test_a_time_and_an_id_come_back_as_they_went() -> None:
    cursor = cursors.encode(AT, "web-1")
    assert cursors.decode(cursor, datetime, str) == (AT, "web-1")
    assert "web-1" not in cursor  # opaque: clients do not build their own


def test_a_person_id_and_a_rank_are_cursors_too() -> None:
    assert cursors.decode(cursors.encode("P0001"), str) == ("P0001",)
    assert cursors.decode(cursors.encode(51), int) == (51,)


@pytest.mark.parametrize(
    ("cursor", "kinds"),
    [
        ("garbage", (str,)),  # not base64 of JSON
        ("-1", (int,)),  # what a client might type for an offset
        (cursors.encode("P1"), (datetime, str)),  # another list's cursor
        (cursors.encode(-5), (int,)),  # a rank below the list
        (cursors.encode(2**40), (int,)),  # beyond what the database can skip
        (cursors.encode("x"), (int,)),
    ],
)
def test_a_cursor_the_list_did_not_make_is_refused_by_name(
    cursor: str, kinds: tuple[type, ...]
) -> None:
    with pytest.raises(BadUserInput, match="not a cursor this API gave out"):
        cursors.decode(cursor, *kinds)
