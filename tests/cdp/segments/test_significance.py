"""The documented rule: at least 100 members and the share known within 20% of itself."""

from cdp.segments.significance import significance


def test_the_seed_examples() -> None:
    assert not significance(1, 10).significant
    assert significance(100, 1_000).significant  # "may be": just inside both limits
    assert significance(1_000, 10_000).significant


def test_the_reason_names_the_count_share_interval_and_the_limit_missed() -> None:
    found = significance(99, 1_000)
    assert not found.significant
    assert found.reason == (
        "99 of 1,000 persons (9.9%, 95% interval 8.2% to 11.9%): fewer than 100 members"
    )


def test_an_empty_segment_or_base_is_never_significant() -> None:
    assert not significance(0, 500).significant
    assert significance(0, 0).share is None
