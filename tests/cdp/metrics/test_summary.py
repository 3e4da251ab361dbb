"""A metrics record becomes a plain document, field by field, in its own order."""

from dataclasses import asdict

from cdp.metrics.interests import Interest
from cdp.metrics.profile import engagement_metrics
from cdp.metrics.summary import fields_of


def test_records_of_different_kinds_become_their_own_documents() -> None:
    tents, tea = Interest("tents", 0.8), Interest("tea", 0.2)
    quiet = engagement_metrics([])
    assert fields_of(tents) == {"topic": "tents", "weight": 0.8}
    assert list(fields_of(quiet)) == list(asdict(quiet))  # the record's own order
    assert fields_of(quiet) == asdict(quiet)
    assert fields_of(tea) == {"topic": "tea", "weight": 0.2}  # the names kept, not the values
