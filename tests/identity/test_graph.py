from datetime import UTC, datetime, timedelta

from identity.graph import components, explain, split

DAY = timedelta(days=1)
START = datetime(2026, 3, 1, tzinfo=UTC)


def test_explain_gives_the_fewest_links_with_the_proof_of_each() -> None:
    links = [
        ("facebook:1", "email:ana@x.io", "app-1"),
        ("email:ana@x.io", "cookie_id:ck", "web-1"),
        ("phone:+44", "email:ana@x.io", "call-1"),
        ("facebook:1", "cookie_id:ck", "later"),
    ]
    assert explain(links, "facebook:1", "phone:+44") == [
        ("facebook:1", "email:ana@x.io", "app-1"),
        ("email:ana@x.io", "phone:+44", "call-1"),
    ]


def test_explain_says_none_when_nothing_links_them() -> None:
    assert explain([("a", "b", 1)], "a", "c") is None
    assert explain([("a", "b", 1), ("c", "d", 2)], "a", "d") is None


def test_a_person_splits_where_only_the_removed_identifier_held_it_together() -> None:
    seen = {
        "email:ana@x.io": START,
        "customer_id:C1": START + DAY,
        "email:bo@x.io": START + 2 * DAY,
        "phone:+bo": START + 3 * DAY,
        "cookie_id:bo": START + 4 * DAY,
    }
    together = [
        ["customer_id:C1", "email:ana@x.io"],
        ["email:bo@x.io", "phone:+bo", "cookie_id:bo"],
        ["customer_id:C1", "email:bo@x.io"],  # the agent's typo that joined them
    ]
    parts = split(seen, "email:bo@x.io", together)
    assert parts == [{"email:ana@x.io", "customer_id:C1"}, {"phone:+bo", "cookie_id:bo"}]


def test_removing_an_identifier_that_held_nothing_together_leaves_one_part() -> None:
    seen = {"email:typo@x.io": START, "email:ana@x.io": START + DAY, "cookie_id:ck": START + DAY}
    parts = split(
        seen,
        "email:typo@x.io",
        [["email:typo@x.io", "cookie_id:ck"], ["email:ana@x.io", "cookie_id:ck"]],
    )
    assert parts == [{"email:ana@x.io", "cookie_id:ck"}]


def test_components_of_a_bulk_load() -> None:
    found = components([(1, 2), (2, 3), (4, 5)], nodes=[6])
    assert sorted(map(sorted, found)) == [[1, 2, 3], [4, 5], [6]]
