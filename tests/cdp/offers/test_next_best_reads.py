"""What one person's offers read: nothing from the database for a refreshed profile, and
the same answer the long way for a profile written before the kept facts existed."""

import dataclasses
from collections.abc import AsyncIterator

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from cdp.deps import Deps
from cdp.ingest import IngestLimits, track
from cdp.offers.next_best import OfferAnswer, next_best_offers
from cdp.offers.policy import OfferPolicy
from cdp.offers.responses import OfferResponse, record_response
from cdp.profile.find import Profile, find_person
from cdp.store import Stores
from cdp.store.database import Document, connect, ping
from tests.commands import Commands
from tests.resolvers.test_offers_api import NOW, lea_after_baskets

POLICY = OfferPolicy(exploration=0.0, min_support_count=5)


@pytest.fixture
async def counted(
    mongodb_uri: str, db: AsyncDatabase[Document], limits: IngestLimits
) -> AsyncIterator[tuple[Deps, Commands]]:
    """Deps through a client that records every command; another instance's catalogue
    changes are checked for once a minute, so the check cannot fall inside the test."""
    listener = Commands()
    client = connect(mongodb_uri, event_listeners=[listener])
    watched = client[db.name]
    stores = Stores.on(watched, catalogue_check_seconds=60.0)
    yield Deps(stores, limits, lambda: ping(watched), POLICY), listener
    await client.close()


async def answer(stores: Stores, profile: Profile) -> OfferAnswer:
    return await next_best_offers(stores, profile, limit=3, channel=None, policy=POLICY, now=NOW)


def summary(found: OfferAnswer) -> list[tuple[str, str, str]]:
    shown = [(r.candidate.offer.id, r.candidate.reason, r.channel) for r in found.recommendations]
    return shown + [(s.candidate.offer.id, s.candidate.reason, s.why) for s in found.suppressed]


async def test_a_refreshed_profile_gets_its_offers_without_a_database_read(
    counted: tuple[Deps, Commands],
) -> None:
    deps, commands = counted
    lea = await lea_after_baskets(deps)
    profile = await find_person(deps.stores, lea)
    assert profile is not None
    first = await answer(deps.stores, profile)  # fills the catalogue cache
    commands.names.clear()
    again = await answer(deps.stores, profile)
    assert commands.names == []
    assert again == first
    assert first.recommendations[0].candidate.offer.id == "product:STOVE-1"


async def test_an_old_profile_without_the_kept_facts_gets_the_same_answer(deps: Deps) -> None:
    quiet = dataclasses.replace(deps, offers=POLICY)
    lea = await lea_after_baskets(quiet)
    await record_response(quiet.stores, lea, "product:STOVE-1", OfferResponse.DECLINED, None, NOW)
    profile = await find_person(quiet.stores, lea)
    assert profile is not None
    assert profile.metrics is not None
    assert profile.segment_ids is not None
    assert profile.offer_history is not None
    old = dataclasses.replace(
        profile,
        segment_ids=None,
        offer_history=None,
        metrics={
            k: v for k, v in profile.metrics.items() if k not in ("trail", "marketing_channels")
        },
    )
    kept, read = await answer(quiet.stores, profile), await answer(quiet.stores, old)
    assert summary(kept) == summary(read)
    assert any(
        s.candidate.offer.id == "product:STOVE-1" and s.why.startswith("declined")
        for s in kept.suppressed
    )


async def test_a_decline_before_a_merge_still_rests_the_offer_for_the_merged_person(
    deps: Deps,
) -> None:
    quiet = dataclasses.replace(deps, offers=POLICY)
    phone = {
        "type": "call_logged",
        "channel": "PHONE",
        "identifiers": [{"type": "phone", "value": "+44 20 7946 0958"}],
        "timestamp": NOW.isoformat(),
    }
    older = (await track(quiet.stores, [phone], quiet.limits)).results[0].person_id
    lea = await lea_after_baskets(quiet)
    await record_response(quiet.stores, lea, "product:STOVE-1", OfferResponse.DECLINED, None, NOW)
    both = {
        **phone,
        "type": "form_submitted",
        "channel": "WEB",
        "identifiers": [*phone["identifiers"], {"type": "email", "value": "lea@example.com"}],
    }
    await track(quiet.stores, [both], quiet.limits)
    merged = await find_person(quiet.stores, lea)
    assert merged is not None
    assert merged.id == older
    found = await answer(quiet.stores, merged)
    stove = [s.why for s in found.suppressed if s.candidate.offer.id == "product:STOVE-1"]
    assert stove
    assert stove[0].startswith("declined")
