"""One campaign to a segment: each member's best offer now, page by page.

Marketing sends one message to a segment, each person with the offer that suits them:
the same ranking as ``nextBestOffers`` (eligibility, consent on the campaign's channel,
caps and declines, exploration), one offer per member, members in id order so a run
can stop and resume from its cursor. Asked to record, each page's shown offers are
logged as SHOWN with their decisions (caps count them, and offline evaluation can
read them) in a few bulk writes per page.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass
from datetime import datetime

from cdp import cursors
from cdp.errors import NotFound
from cdp.offers.decisions import decision_document
from cdp.offers.next_best import OfferAnswer, next_best_offers
from cdp.offers.policy import OfferPolicy
from cdp.offers.ranking import Recommendation
from cdp.offers.responses import (
    OfferResponse,
    history_before_copy,
    remembered,
    response_document,
    rfm_key,
)
from cdp.profile.find import Profile, profiles_of
from cdp.records import Channel
from cdp.segments.lookup import find_segment
from cdp.segments.members import member_page
from cdp.store import Stores

PAGE = 500  # members read, ranked and recorded together


@dataclass(frozen=True, slots=True)
class CampaignRow:
    profile: Profile
    answer: OfferAnswer

    @property
    def offer(self) -> Recommendation:
        return self.answer.recommendations[0]


@dataclass(frozen=True, slots=True)
class CampaignPage:
    rows: list[CampaignRow]
    members: int  # read on this page, with an offer or not
    end: str | None  # cursor after this page's last member
    has_next: bool


async def campaign(
    stores: Stores,
    segment_id: str,
    *,
    channel: Channel | None,
    policy: OfferPolicy,
    now: datetime,
    record: bool = False,
    after: str | None = None,
    page: int = PAGE,
) -> AsyncGenerator[CampaignPage, None]:
    """Pages of members with their best offer (members with none eligible are left out
    of the rows but counted)."""
    if await find_segment(stores, segment_id) is None:
        raise NotFound(f"no segment has the id {segment_id}")
    cursor = after
    while True:
        ids, has_next = await member_page(stores, segment_id, page, cursor)
        rows = []
        for profile in await profiles_of(stores, ids):
            answer = await next_best_offers(
                stores, profile, limit=1, channel=channel, policy=policy, now=now
            )
            if answer.recommendations:
                rows.append(CampaignRow(profile, answer))
        if record:
            await _record_shown(stores, rows, now)
        end = cursors.encode(ids[-1]) if ids else cursor
        yield CampaignPage(rows, len(ids), end, has_next)
        if not has_next:
            return
        cursor = end


async def _record_shown(stores: Stores, rows: list[CampaignRow], now: datetime) -> None:
    """Log each answer and a SHOWN response tied to it; remember it on the profile."""
    await stores.offers.log_decisions(
        [decision_document(row.profile.id, row.answer, now) for row in rows]
    )
    shown = []
    for row in rows:
        decision = row.answer.decision(row.offer)
        document = response_document(
            row.profile.id,
            decision.offer,
            OfferResponse.SHOWN,
            row.offer.channel or None,
            now,
            decision,
        )
        shown.append((document, rfm_key(row.profile)))
    await stores.offers.record_responses_many(shown)
    await stores.persons.remember_offer_responses_many(
        [
            (
                row.profile.id,
                [
                    *await history_before_copy(stores, row.profile),
                    remembered(row.offer.candidate.offer.id, OfferResponse.SHOWN, now),
                ],
            )
            for row in rows
        ]
    )
