"""The identity rules against the real server: shared devices, refused merges, conflicts."""

from pymongo.asynchronous.database import AsyncDatabase

from cdp.ingest import IngestLimits, track
from cdp.records import EventStatus
from cdp.store import Stores
from cdp.store.database import Document
from tests.oracles import owner
from tests.stories import event


async def test_a_family_tablet_used_by_two_people_who_each_logged_in_stays_two_persons(
    stores: Stores, limits: IngestLimits, db: AsyncDatabase[Document]
) -> None:
    tablet = ("device_id", "ipad-kitchen")
    await track(
        stores,
        [
            event(
                "login",
                "MOBILE_APP",
                [("email", "maria@example.com"), tablet],
                at="2026-03-01T08:00:00Z",
            )
        ],
        limits,
    )
    await track(
        stores,
        [
            event(
                "page_view",
                "MOBILE_APP",
                [tablet],
                at="2026-03-01T08:05:00Z",
                message_id="mum-browsing",
            )
        ],
        limits,
    )
    await track(
        stores,
        [
            event(
                "login",
                "MOBILE_APP",
                [("email", "tom@example.com"), tablet],
                at="2026-03-01T19:00:00Z",
            )
        ],
        limits,
    )
    later = await track(
        stores,
        [
            event(
                "page_view",
                "MOBILE_APP",
                [tablet],
                at="2026-03-01T19:10:00Z",
                message_id="tom-browsing",
            )
        ],
        limits,
    )

    maria, tom = (
        await owner(stores, "email", "maria@example.com"),
        await owner(stores, "email", "tom@example.com"),
    )
    assert maria is not None
    assert tom is not None
    assert maria != tom
    assert await owner(stores, *tablet) == tom  # the tablet means "whoever used it last"
    assert later.results[0].person_id == tom
    mum_browsing = await db["events"].find_one({"_id": "mum-browsing"})
    assert mum_browsing is not None
    assert mum_browsing["person_id"] == maria  # Maria keeps her history
    assert await db["merges"].count_documents({}) == 0


async def test_two_customer_ids_are_refused_the_event_kept_and_the_conflict_recorded(
    stores: Stores, limits: IngestLimits, db: AsyncDatabase[Document]
) -> None:
    await track(
        stores,
        [
            event(
                "signup",
                "WEB",
                [("customer_id", "C-1"), ("email", "ana@example.com")],
                at="2026-03-01T08:00:00Z",
            )
        ],
        limits,
    )
    await track(
        stores,
        [
            event(
                "signup",
                "STORE",
                [("customer_id", "C-2"), ("email", "bo@example.com")],
                at="2026-03-01T09:00:00Z",
            )
        ],
        limits,
    )
    typo = event(
        "order",
        "CRM",
        [("email", "ana@example.com"), ("customer_id", "C-2")],
        at="2026-03-01T10:00:00Z",
        message_id="crm-77",
    )
    result = await track(stores, [typo], limits)

    assert result.results[0].status is EventStatus.ACCEPTED
    bo = await owner(stores, "customer_id", "C-2")
    ana = await owner(stores, "customer_id", "C-1")
    assert result.results[0].person_id == bo  # the strongest identifier decides
    assert ana != bo
    conflict = await db["conflicts"].find_one({"event_id": "crm-77"})
    assert conflict is not None
    assert {conflict["person_id"], conflict["other_id"]} == {ana, bo}
    assert conflict["rule"] == "customer_id: at most 1 identifier of this type per person"
    assert await db["merges"].count_documents({}) == 0


async def test_anonymous_browsing_joins_the_customer_who_logs_in(
    stores: Stores, limits: IngestLimits, db: AsyncDatabase[Document]
) -> None:
    await track(
        stores,
        [event("identify", "CRM", [("email", "ana@example.com")], at="2026-03-01T08:00:00Z")],
        limits,
    )
    cookie = ("cookie_id", "ck-anon-1")
    await track(
        stores,
        [
            event("page_view", "WEB", [cookie], at="2026-03-02T10:00:00Z", message_id=f"pv{i}")
            for i in range(3)
        ],
        limits,
    )
    await track(
        stores,
        [event("login", "WEB", [("email", "ana@example.com"), cookie], at="2026-03-02T10:05:00Z")],
        limits,
    )
    ana = await owner(stores, "email", "ana@example.com")
    assert await owner(stores, *cookie) == ana
    assert await db["events"].count_documents({"person_id": ana}) == 5
