"""The collector set for serving: what exists at start is out of its sight, and the
youngest generation is collected less often."""

import gc
from collections.abc import Iterator

import pytest

from cdp.collector import tune_collector


@pytest.fixture
def restored() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


def test_serving_freezes_what_exists_and_raises_the_young_threshold(restored: None) -> None:
    kept_for_life = [{"schema": n} for n in range(1_000)]
    tune_collector(50_000)
    assert gc.get_freeze_count() >= len(kept_for_life)
    assert gc.get_threshold()[0] == 50_000


def test_zero_keeps_pythons_own_threshold(restored: None) -> None:
    before = gc.get_threshold()
    tune_collector(0)
    assert gc.get_threshold() == before


def test_garbage_in_cycles_made_after_it_is_still_collected(restored: None) -> None:
    tune_collector(50_000)

    class Node:
        partner: object = None

    first, second = Node(), Node()
    first.partner, second.partner = second, first
    del first, second
    assert gc.collect() >= 2  # the pair found and freed by a full collection
