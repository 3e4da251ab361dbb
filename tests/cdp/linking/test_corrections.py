"""An agent corrects the graph: a manual merge, an unlink that splits a person."""

from datetime import UTC, datetime

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from cdp.errors import BadUserInput, Conflict, NotFound
from cdp.ingest import IngestLimits, track
from cdp.linking.corrections import merge_manually, unlink_identifier
from cdp.linking.explain import identity_path
from cdp.profile.find import find_person
from cdp.store import Stores
from cdp.store.database import Document
from identity import IdentityRules
from tests.oracles import owner
from tests.stories import event

NOW = datetime(2026, 3, 5, 12, 0, tzinfo=UTC)


async def test_a_typo_joining_two_customers_is_unlinked_and_each_history_follows_its_owner(
    stores: Stores, limits: IngestLimits, db: AsyncDatabase[Document]
) -> None:
    # Bo signs up on the web; Ana is a store customer with a customer id.
    bo_signup = event(
        "signup",
        "WEB",
        [("email", "bo@example.com"), ("phone", "+447911123456"), ("cookie_id", "ck-bo")],
        at="2026-03-01T09:00:00Z",
        message_id="bo-signup",
    )
    bo_visit = event(
        "page_view",
        "WEB",
        [("cookie_id", "ck-bo")],
        at="2026-03-01T09:05:00Z",
        message_id="bo-visit",
    )
    ana_order = event(
        "order",
        "STORE",
        [("customer_id", "C-ANA"), ("email", "ana@example.com")],
        at="2026-03-02T10:00:00Z",
        message_id="ana-order",
    )
    # An agent keys Ana's phone order with Bo's email by mistake: the two persons merge.
    typo = event(
        "order",
        "PHONE",
        [("customer_id", "C-ANA"), ("email", "bo@example.com")],
        at="2026-03-03T10:00:00Z",
        message_id="typo-order",
    )
    for raw in [bo_signup, bo_visit, ana_order, typo]:
        await track(stores, [raw], limits)
    merged = await owner(stores, "customer_id", "C-ANA")
    assert merged is not None
    assert merged == await owner(stores, "cookie_id", "ck-bo")

    persons = await unlink_identifier(
        stores,
        merged,
        ("email", "bo@example.com"),
        reason="agent typo on order",
        agent="sam",
        region="GB",
        now=NOW,
    )

    bo, ana, detached = (
        await owner(stores, "phone", "+447911123456"),
        await owner(stores, "customer_id", "C-ANA"),
        await owner(stores, "email", "bo@example.com"),
    )
    assert bo is not None
    assert ana is not None
    assert detached is not None  # the email is a person of its own now
    assert len({bo, ana, detached}) == 3
    assert persons == [bo, ana, detached]  # Bo's part holds the oldest identifier: the id
    assert await owner(stores, "cookie_id", "ck-bo") == bo
    by_event = {doc["_id"]: doc["person_id"] async for doc in db["events"].find()}
    assert by_event == {"bo-signup": bo, "bo-visit": bo, "ana-order": ana, "typo-order": ana}
    audit = await db["merges"].find_one({"kind": "unlink"})
    assert audit is not None
    assert (audit["agent"], audit["reason"], audit["identifiers"]) == (
        "sam",
        "agent typo on order",
        ["email:bo@example.com"],
    )


async def test_unlinking_a_typo_that_held_nothing_together_keeps_one_person(
    stores: Stores, limits: IngestLimits
) -> None:
    await track(
        stores,
        [
            event(
                "form",
                "WEB",
                [("email", "ana.silva@exmaple.com"), ("phone", "+447911123456")],
                at="2026-03-01T09:00:00Z",
            )
        ],
        limits,
    )
    await track(
        stores,
        [
            event(
                "login",
                "WEB",
                [("email", "ana.silva@example.com"), ("phone", "+447911123456")],
                at="2026-03-02T09:00:00Z",
            )
        ],
        limits,
    )
    person = await owner(stores, "phone", "+447911123456")
    assert person is not None
    persons = await unlink_identifier(
        stores,
        person,
        ("email", "ana.silva@exmaple.com"),
        reason="typo",
        agent=None,
        region="GB",
        now=NOW,
    )
    [kept, typo] = persons
    assert kept == person
    assert await owner(stores, "email", "ana.silva@example.com") == person
    assert await owner(stores, "email", "ana.silva@exmaple.com") == typo  # on its own


async def test_unlinking_what_a_person_does_not_hold_is_not_found(
    stores: Stores, limits: IngestLimits
) -> None:
    await track(
        stores,
        [event("form", "WEB", [("email", "ana@example.com")], at="2026-03-01T09:00:00Z")],
        limits,
    )
    person = await owner(stores, "email", "ana@example.com")
    assert person is not None
    with pytest.raises(NotFound, match=r"does not hold email:bo@example\.com"):
        await unlink_identifier(
            stores,
            person,
            ("email", "bo@example.com"),
            reason="x",
            agent=None,
            region="GB",
            now=NOW,
        )


async def test_an_agent_merges_two_persons_and_the_link_explains_it(
    stores: Stores, limits: IngestLimits
) -> None:
    await track(
        stores,
        [event("call", "PHONE", [("phone", "+447911123456")], at="2026-03-01T09:00:00Z")],
        limits,
    )
    await track(
        stores,
        [event("form", "WEB", [("email", "ana@example.com")], at="2026-03-01T10:00:00Z")],
        limits,
    )
    phone_person, email_person = (
        await owner(stores, "phone", "+447911123456"),
        await owner(stores, "email", "ana@example.com"),
    )
    assert phone_person is not None
    assert email_person is not None
    survivor = await merge_manually(
        stores,
        email_person,
        phone_person,
        reason="same caller, confirmed by phone",
        agent="sam",
        rules=IdentityRules(),
        now=NOW,
    )
    assert survivor == email_person  # the person the agent merged into keeps its id
    assert await owner(stores, "email", "ana@example.com") == survivor
    path = await identity_path(
        stores, ("phone", "+447911123456"), ("email", "ana@example.com"), "GB"
    )
    assert [(s.event_id, s.source) for s in path.steps] == [(None, "manual:sam")]
    with pytest.raises(BadUserInput, match="already one person"):
        await merge_manually(
            stores,
            survivor,
            email_person,
            reason="again",
            agent="sam",
            rules=IdentityRules(),
            now=NOW,
        )


async def test_a_manual_merge_that_breaks_a_rule_is_refused_naming_it(
    stores: Stores, limits: IngestLimits
) -> None:
    await track(
        stores,
        [event("signup", "WEB", [("customer_id", "C-1")], at="2026-03-01T09:00:00Z")],
        limits,
    )
    await track(
        stores,
        [event("signup", "WEB", [("customer_id", "C-2")], at="2026-03-01T09:00:00Z")],
        limits,
    )
    first, second = (
        await owner(stores, "customer_id", "C-1"),
        await owner(stores, "customer_id", "C-2"),
    )
    assert first is not None
    assert second is not None
    with pytest.raises(Conflict, match="customer_id: at most 1 identifier of this type per person"):
        await merge_manually(
            stores, first, second, reason="x", agent="sam", rules=IdentityRules(), now=NOW
        )


async def test_a_detached_email_takes_its_own_history_and_the_traits_it_set(
    stores: Stores, limits: IngestLimits, db: AsyncDatabase[Document]
) -> None:
    # Ana signs up; a shop assistant later types Ana's customer number on a newsletter
    # form filled in by Tom, whose address then receives (and opens) the newsletter.
    ana_signup = event(
        "signup",
        "STORE",
        [("customer_id", "C-774"), ("email", "ana@example.com")],
        at="2026-03-01T09:00:00Z",
        message_id="ana-signup",
        traits={"firstName": "Ana", "city": "Leeds"},
    )
    wrong_form = event(
        "newsletter_signup",
        "STORE",
        [("customer_id", "C-774"), ("email", "tom@example.com")],
        at="2026-03-02T09:00:00Z",
        message_id="tom-form",
    )
    tom_open = event(
        "email_open",
        "EMAIL",
        [("email", "tom@example.com")],
        at="2026-03-03T09:00:00Z",
        message_id="tom-open",
        traits={"firstName": "Tom"},
        properties={"campaign": "spring"},
    )
    for raw in [ana_signup, wrong_form, tom_open]:
        await track(stores, [raw], limits)
    ana = await owner(stores, "customer_id", "C-774")
    assert ana is not None
    profile = await find_person(stores, ana)
    assert profile is not None
    assert profile.traits["firstName"] == "Tom"  # the wrong email's event won

    [kept, tom] = await unlink_identifier(
        stores, ana, ("email", "tom@example.com"), reason="not hers", agent=None, region="GB",
        now=NOW,
    )  # fmt: skip

    assert kept == ana
    by_event = {doc["_id"]: doc["person_id"] async for doc in db["events"].find()}
    assert by_event["tom-open"] == tom  # only his address: his history
    assert by_event["tom-form"] == ana  # carried her customer number: stays with her
    ana_now, tom_now = await find_person(stores, ana), await find_person(stores, tom)
    assert ana_now is not None
    assert tom_now is not None
    assert ana_now.traits == {"firstName": "Ana", "city": "Leeds"}
    assert tom_now.traits == {"firstName": "Tom"}
    assert await owner(stores, "email", "tom@example.com") == tom
    history = await db["merges"].find({"created": tom}).to_list()
    assert [(h["kind"], h["survivor"]) for h in history] == [("unlink", ana)]


async def test_the_only_identifier_cannot_be_detached(stores: Stores, limits: IngestLimits) -> None:
    raw = event("login", "WEB", [("email", "ana@example.com")], at="2026-03-01T09:00:00Z")
    person = (await track(stores, [raw], limits)).results[0].person_id
    assert person is not None
    with pytest.raises(BadUserInput, match="nothing to detach it from"):
        await unlink_identifier(
            stores, person, ("email", "ana@example.com"), reason="r", agent=None, region="GB",
            now=NOW,
        )  # fmt: skip
