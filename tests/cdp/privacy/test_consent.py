"""Consent: kept with time and source; the latest decision per purpose and channel wins."""

from datetime import UTC, datetime, timedelta

import pytest

from cdp.errors import BadUserInput, NotFound
from cdp.ingest import IngestLimits, track
from cdp.privacy.consent import Consent, has_consent, in_force
from cdp.privacy.consent_records import consents_of, set_consent
from cdp.profile.find import find_by_identifier
from cdp.records import Channel
from cdp.store import Stores
from tests.stories import seed_story

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def decision(purpose: str, channel: Channel | None, granted: bool, minutes: int) -> Consent:
    return Consent(purpose, channel, granted, "preference centre", T0 + timedelta(minutes=minutes))


def test_without_a_decision_there_is_no_consent_and_a_channel_decision_outranks_a_general_one() -> (
    None
):
    decisions = [
        decision("marketing", None, True, 0),
        decision("marketing", Channel.SMS, False, 1),
        decision("marketing", None, False, 2),
        decision("marketing", None, True, 3),
    ]
    assert has_consent(decisions, "marketing", Channel.EMAIL)
    assert not has_consent(decisions, "marketing", Channel.SMS)
    assert not has_consent(decisions, "analytics", None)
    assert [(c.channel, c.granted) for c in in_force(decisions)] == [
        (None, True),
        (Channel.SMS, False),
    ]


async def test_consent_is_kept_with_source_and_time_and_follows_a_merge(
    stores: Stores, limits: IngestLimits
) -> None:
    story = seed_story()
    await track(stores, [story[0]], limits)  # the Facebook person: the older one
    form = await track(stores, [story[1]], limits)  # the web-form person, merged away later
    form_person = form.results[0].person_id
    assert form_person is not None
    await set_consent(
        stores, form_person, "marketing", Channel.EMAIL, True, "web form checkbox", T0
    )
    for raw in [story[2], story[3]]:
        await track(stores, [raw], limits)
    ana = await find_by_identifier(stores, "facebook", "10158000000001", "GB")
    assert ana is not None
    assert ana.id != form_person
    [consent] = in_force(await consents_of(stores, ana.family))
    assert (consent.purpose, consent.channel, consent.granted, consent.source) == (
        "marketing",
        Channel.EMAIL,
        True,
        "web form checkbox",
    )


async def test_bad_consent_input_is_refused_naming_the_field(
    stores: Stores, limits: IngestLimits
) -> None:
    with pytest.raises(NotFound):
        await set_consent(stores, "nobody", "marketing", None, True, "x", T0)
    person = (await track(stores, [seed_story()[0]], limits)).results[0].person_id
    assert person is not None
    with pytest.raises(BadUserInput, match="purpose"):
        await set_consent(stores, person, "Marketing Emails!", None, True, "x", T0)
    with pytest.raises(BadUserInput, match="source"):
        await set_consent(stores, person, "marketing", None, True, "  ", T0)
