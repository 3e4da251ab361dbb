"""A fold carried on from a stored one gives the metrics a fold of the whole history gives,
to the last bit, whatever the split, the clocks in between and the trip through BSON."""

from datetime import UTC, datetime, timedelta
from typing import Any

import bson
from bson.codec_options import CodecOptions
from hypothesis import given, settings
from hypothesis import strategies as st

from cdp.metrics.clv import PurchaseDays, TimeUnit
from cdp.metrics.fold import FOLD_VERSION, Folded, fold_history
from cdp.metrics.profile import Interaction
from cdp.metrics.summary import BaseModels, summarise_folded, summarise_person

START = datetime(2025, 1, 1, tzinfo=UTC)
END = START + timedelta(days=60)  # close together: windows and prunes cut through them
CLV = {
    "time_unit": "DAYS",
    "r": 0.24,
    "alpha": 4.4,
    "a": 0.79,
    "b": 2.4,
    "log_likelihood": -9582.0,
    "p": 6.25,
    "q": 3.74,
    "gamma": 15.44,
}
MODELS = BaseModels(clv=CLV)
CHANNELS = frozenset({"WEB", "EMAIL"})
CODEC: CodecOptions[dict[str, Any]] = CodecOptions(tz_aware=True)

skus = st.sampled_from(["TENT-1", "tea.green", "$MUG", "stove", " boots "])
properties = st.fixed_dictionaries(
    {},
    optional={
        "sku": skus,
        "total": st.floats(-50, 500, allow_nan=False).map(lambda x: round(x, 2)),
        "category": st.sampled_from(["Tents", "tea", "cook.ware", "$odd"]),
        "topic": st.sampled_from(["Hiking", "recipes"]),
        "device": st.sampled_from(["Mobile", "desktop", "tablet"]),
        "os": st.sampled_from(["iOS", "linux"]),
        "discountCode": st.sampled_from(["", "WELCOME"]),
        "items": st.lists(st.fixed_dictionaries({"sku": skus, "category": st.just("Tents")})),
    },
)
events = st.builds(
    Interaction,
    type=st.sampled_from(
        [
            "purchase",
            "refund",
            "product_view",
            "add_to_cart",
            "wishlist_add",
            "wishlist_remove",
            "content_view",
            "email_sent",
            "email_open",
            "email_click",
            "page_view",
        ]
    ),
    channel=st.sampled_from(["WEB", "EMAIL", "MOBILE_APP", "SMS"]),
    timestamp=st.datetimes(
        min_value=START.replace(tzinfo=None), max_value=END.replace(tzinfo=None)
    ).map(lambda t: t.replace(microsecond=t.microsecond // 1000 * 1000, tzinfo=UTC)),
    properties=properties,
)


def stored(folded: Folded) -> Folded:
    """The fold as it comes back from the database."""
    raw = bson.decode(bson.encode({"fold": folded.to_document()}), CODEC)
    back = Folded.from_document(raw["fold"])
    assert back is not None
    return back


@settings(max_examples=300, deadline=None)
@given(
    history=st.lists(events, max_size=60),
    split=st.floats(0, 1),
    gap=st.floats(0, 20),
    later=st.floats(0, 20),
)
def test_a_fold_carried_on_reads_as_the_whole_history_folded(
    history: list[Interaction], split: float, gap: float, later: float
) -> None:
    history.sort(key=lambda e: e.timestamp)
    cut = int(len(history) * split)
    first_clock = (history[cut - 1].timestamp if cut else START) + timedelta(days=gap)
    last_clock = max([first_clock, *(e.timestamp for e in history)]) + timedelta(days=later)

    carried = stored(fold_history(history[:cut], first_clock))
    for event in history[cut:]:
        carried.add(event)
    carried.prune(last_clock)
    carried = stored(carried)

    unpruned = Folded()  # nothing forgotten: what the metrics mean
    for event in history:
        unpruned.add(event)

    assert carried.answers(last_clock)
    traits = {"birthday": "1990-02-03"}
    expected = summarise_folded(unpruned, traits, CHANNELS, MODELS, last_clock)
    assert summarise_folded(carried, traits, CHANNELS, MODELS, last_clock) == expected
    assert summarise_person(history, traits, CHANNELS, MODELS, last_clock) == expected


def test_a_clock_more_than_a_day_behind_the_last_prune_is_not_answered() -> None:
    views = [Interaction("product_view", "WEB", START, {"sku": "TENT-1"})]
    folded = fold_history(views, START + timedelta(days=30))
    assert folded.answers(START + timedelta(days=29, hours=1))
    assert not folded.answers(START + timedelta(days=28))


def test_a_stored_fold_of_another_version_or_shape_is_not_read() -> None:
    document = fold_history([], START).to_document()
    assert Folded.from_document(document) is not None
    assert Folded.from_document({**document, "version": FOLD_VERSION + 1}) is None
    assert Folded.from_document({**document, "trail": {"bought": 3}}) is None


def test_a_purchase_dated_tomorrow_waits_for_its_day_in_the_clv_summary() -> None:
    days = PurchaseDays()
    for when, total in [(START, 10.0), (START + timedelta(days=3), 20.0)]:
        days.add(when, total)
    days.add(START + timedelta(days=5), 99.0)  # the ingest allows a day ahead
    today = (START + timedelta(days=4)).date()
    summary = days.summary(today, TimeUnit.DAYS)
    assert summary is not None
    assert (summary.frequency, summary.recency, summary.repeat_spend) == (1, 3.0, 20.0)
    later = days.summary((START + timedelta(days=5)).date(), TimeUnit.DAYS)
    assert later is not None
    assert (later.frequency, later.repeat_spend) == (2, 59.5)


def test_a_fold_whose_packed_times_do_not_read_back_is_not_read() -> None:
    folded = fold_history(
        [Interaction("purchase", "WEB", START, {"total": 12.5, "items": [{"sku": "TENT-1"}]})],
        START,
    )
    document = folded.to_document()
    assert Folded.from_document(document) is not None
    cut = {**document, "purchases": {**document["purchases"], "recent": b"\x01\x02\x03"}}
    assert Folded.from_document(cut) is None
    uneven = {**document, "trail": {**document["trail"], "bought": {"skus": ["A", "B"], "at": b""}}}
    assert Folded.from_document(uneven) is None
