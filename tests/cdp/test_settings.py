"""Settings that decide how the service runs, read as an operator writes them."""

import pytest

from cdp.settings import Settings


@pytest.mark.parametrize(
    ("lock", "engine", "shared"),
    [
        ("auto", "secantusd-rs", False),  # the embedded database has one owner
        ("auto", "external", True),  # a MongoDB named by URI may have several instances
        ("local", "external", False),  # the operator says this instance is alone
        ("database", "secantusd-rs", True),
    ],
)
def test_stitching_takes_a_database_lease_only_where_instances_may_share_it(
    lock: str, engine: str, shared: bool
) -> None:
    settings = Settings.model_validate({"stitch_lock": lock})
    assert settings.stitching_shared(engine) is shared


def test_an_unknown_lock_kind_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="stitch_lock"):
        Settings.model_validate({"stitch_lock": "redis"})


def test_a_refresh_lag_the_sweep_would_overtake_is_refused_with_both_names() -> None:
    """The sweep refreshes persons pending longer than the stale time: a refresher that
    may gather longer would see the sweep refresh its persons before it."""
    with pytest.raises(
        ValueError,
        match=r"CDP_REFRESH_LAG_SECONDS \(3\) must be below CDP_REFRESH_STALE_SECONDS \(2\)",
    ):
        Settings.model_validate({"refresh_stale_seconds": 2, "refresh_lag_seconds": 3})
    lagging = Settings.model_validate({"refresh_stale_seconds": 2, "refresh_lag_seconds": 1})
    assert lagging.refresh_policy().lag_at_most_seconds == 1
