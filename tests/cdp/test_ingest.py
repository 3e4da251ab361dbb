"""The ingest flow against a real server: stitching, idempotency, bad events, races."""

import asyncio
import random
from collections.abc import AsyncIterator, Collection, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from cdp.errors import BadUserInput
from cdp.ingest import IngestLimits, Landed, identify, land, track, validated
from cdp.linking.merging import merge_persons
from cdp.profile.find import find_by_identifier, find_person
from cdp.profile.refresher import Refresher, RefreshPolicy
from cdp.records import Event, EventStatus, RejectionCode
from cdp.store import LinkProof, Stores
from cdp.store.database import Document
from cdp.store.events import EventStore
from cdp.store.links import LinkStore
from cdp.store.locks import DatabaseLock, LocalLock
from cdp.store.ordered import Applied, OrderedWrites, Write
from cdp.store.persons import PersonStore
from tests.commands import Commands, listening
from tests.loop import a_call_waiting
from tests.stories import customers_apart_then_together, event, seed_story

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


async def test_the_seed_story_ends_as_one_person_with_one_cross_channel_timeline(
    stores: Stores, limits: IngestLimits, db: AsyncDatabase[Document]
) -> None:
    person_ids = []
    for raw in seed_story():  # one call per event, as four different integrations would
        result = await track(stores, [raw], limits)
        assert result.results[0].status is EventStatus.ACCEPTED
        person_ids.append(result.results[0].person_id)

    facebook_person, form_person = person_ids[0], person_ids[1]
    assert facebook_person != form_person  # nothing linked them yet
    assert person_ids[2] == form_person  # the phone call matched the email written differently
    assert person_ids[3] == facebook_person  # the app login joined both: the older one survives

    for type_, value in [
        ("facebook", "10158000000001"),
        ("email", "ANA.SILVA@example.com"),
        ("cookie_id", "ck-7f3a"),
        ("phone", "020 7946 0958"),
    ]:
        found = await find_by_identifier(stores, type_, value, "GB")
        assert found is not None
        assert found.id == facebook_person
    assert form_person is not None
    profile = await find_person(stores, form_person)  # the absorbed id still finds Ana
    assert profile is not None
    assert profile.id == facebook_person
    assert profile.merged_from == (form_person,)
    assert profile.traits == {"firstName": "Ana"}
    assert {d["_id"] for d in await stores.identifiers.of_persons(profile.family)} == {
        "facebook:10158000000001",
        "email:ana.silva@example.com",
        "cookie_id:ck-7f3a",
        "phone:+442079460958",
    }
    stored = await db["events"].find({}, {"person_id": 1}).to_list()
    assert {doc["person_id"] for doc in stored} == {facebook_person}  # settled, not just readable
    merge = await db["merges"].find_one({"absorbed": form_person})
    assert merge is not None
    assert merge["survivor"] == facebook_person
    assert merge["event_id"] == "app-1"


async def test_a_batch_gives_the_same_person_as_events_sent_one_by_one(
    stores: Stores, limits: IngestLimits, db: AsyncDatabase[Document]
) -> None:
    result = await track(stores, seed_story(), limits)
    assert [r.status for r in result.results] == [EventStatus.ACCEPTED] * 4
    assert len({r.person_id for r in result.results}) == 1
    assert await db["persons"].count_documents({}) == 1  # nobody created and merged away


async def test_each_call_counts_the_persons_it_created_and_the_merges_it_proved(
    stores: Stores, limits: IngestLimits
) -> None:
    """Ana's Facebook message and her web form make two persons; the app login that
    carries both identifiers merges them. Sent as one batch, one person is made."""
    one_by_one = [await track(stores, [raw], limits) for raw in seed_story()]
    assert [(r.persons_created, r.merges) for r in one_by_one] == [(1, 0), (1, 0), (0, 0), (0, 1)]
    again = [{**raw, "messageId": f"again-{raw['messageId']}"} for raw in seed_story()]
    for raw in again:
        for identifier in raw["identifiers"]:
            identifier["value"] = identifier["value"].replace("ana", "eva").replace("0958", "0959")
            identifier["value"] = identifier["value"].replace("10158000000001", "10158000000002")
    together = await track(stores, again, limits)
    assert (together.persons_created, together.merges) == (1, 0)


async def test_a_message_id_sent_again_is_stored_once_and_answered_duplicate(
    stores: Stores, limits: IngestLimits, db: AsyncDatabase[Document]
) -> None:
    first = await track(stores, seed_story()[:2], limits)
    again = await track(stores, seed_story()[:3], limits)
    assert [r.status for r in first.results] == [EventStatus.ACCEPTED] * 2
    assert [r.status for r in again.results] == [
        EventStatus.DUPLICATE,
        EventStatus.DUPLICATE,
        EventStatus.ACCEPTED,
    ]
    twice_in_one_batch = await track(stores, [seed_story()[3], seed_story()[3]], limits)
    assert [r.status for r in twice_in_one_batch.results] == [
        EventStatus.ACCEPTED,
        EventStatus.DUPLICATE,
    ]
    assert await db["events"].count_documents({}) == 4


async def test_a_duplicate_names_the_live_person_its_event_is_on(
    stores: Stores, limits: IngestLimits
) -> None:
    story = seed_story()
    await track(stores, [story[0]], limits)  # the Facebook profile is the older one
    form_person = (await track(stores, [story[1]], limits)).results[0].person_id
    await track(stores, [story[3]], limits)  # the app login merges the form profile into it
    retried = await track(stores, [story[1], story[1]], limits)
    survivor = await find_by_identifier(stores, "cookie_id", "ck-7f3a", "GB")
    assert survivor is not None
    assert survivor.id != form_person
    assert [(r.status, r.person_id) for r in retried.results] == [
        (EventStatus.DUPLICATE, survivor.id),
        (EventStatus.DUPLICATE, survivor.id),
    ]


async def test_one_bad_event_is_rejected_alone_and_the_rest_are_stored(
    stores: Stores, limits: IngestLimits, db: AsyncDatabase[Document]
) -> None:
    batch = [
        event(
            "page_view", "WEB", [("cookie_id", "ck-1")], at="2026-03-01T10:00:00Z", message_id="a"
        ),
        event("page_view", "WEB", [("email", "bob@")], at="2026-03-01T10:01:00Z", message_id="b"),
        event("page_view", "WEB", [], at="2026-03-01T10:02:00Z", message_id="c"),
        event(
            "page_view",
            "WEB",
            [("cookie_id", "ck-2")],
            at="2026-03-01T10:03:00Z",
            message_id="d",
            properties={"$gt": ""},
        ),
        event(
            "page_view", "FAX", [("cookie_id", "ck-3")], at="2026-03-01T10:04:00Z", message_id="e"
        ),
        event("page_view", "WEB", [("cookie_id", "ck-4")], at="not a time", message_id="f"),
        event("page_view", "WEB", [("cookie_id", "ck-5")], at="2026-03-01T10:05:00Z"),
    ]
    result = await track(stores, batch, limits)
    assert [r.status for r in result.results] == [
        EventStatus.ACCEPTED,
        *[EventStatus.REJECTED] * 5,
        EventStatus.ACCEPTED,
    ]
    assert [r.code for r in result.results[1:6]] == [
        RejectionCode.INVALID_IDENTIFIER,
        RejectionCode.NO_IDENTIFIERS,
        RejectionCode.INVALID_EVENT,
        RejectionCode.INVALID_EVENT,
        RejectionCode.INVALID_TIMESTAMP,
    ]
    assert [r.field for r in result.results[1:6]] == [
        "identifiers[0].value",
        "identifiers",
        "properties.$gt",
        "channel",
        "timestamp",
    ]
    generated = result.results[6].message_id
    assert len(generated) == 32
    assert {doc["_id"] for doc in await db["events"].find().to_list()} == {"a", generated}
    assert await db["identifiers"].count_documents({}) == 2  # nothing of the rejected ones


async def test_more_than_the_batch_limit_fails_the_whole_call_and_stores_nothing(
    stores: Stores, limits: IngestLimits, db: AsyncDatabase[Document]
) -> None:
    batch = [
        event("page_view", "WEB", [("cookie_id", f"ck-{i}")], at="2026-03-01T10:00:00Z")
        for i in range(1001)
    ]
    with pytest.raises(BadUserInput, match="1001 events in one call; at most 1000"):
        await track(stores, batch, limits)
    assert await db["events"].count_documents({}) == 0


async def test_traits_keep_the_most_recent_value_even_when_an_old_event_arrives_late(
    stores: Stores, limits: IngestLimits
) -> None:
    ana = [("email", "ana@example.com")]
    await track(
        stores,
        [event("identify", "CRM", ana, at="2026-03-05T00:00:00Z", traits={"city": "Porto"})],
        limits,
    )
    await track(
        stores,
        [
            event(
                "identify",
                "CRM",
                ana,
                at="2026-01-01T00:00:00Z",
                traits={"city": "Lisbon", "gender": "f"},
            )
        ],
        limits,
    )
    profile = await find_by_identifier(stores, "email", "ana@example.com", "GB")
    assert profile is not None
    assert profile.traits == {"city": "Porto", "gender": "f"}


async def test_identify_links_identifiers_and_sets_traits_as_an_identify_event(
    stores: Stores, limits: IngestLimits, db: AsyncDatabase[Document]
) -> None:
    person = await identify(
        stores,
        [{"type": "email", "value": "Bo@Example.com"}, {"type": "crm_id", "value": "C-77"}],
        {"firstName": "Bo"},
        limits,
    )
    profile = await find_by_identifier(stores, "crm_id", "C-77", "GB")
    assert profile is not None
    assert profile.id == person
    assert profile.traits == {"firstName": "Bo"}
    assert await db["events"].count_documents({"type": "identify", "person_id": person}) == 1
    with pytest.raises(BadUserInput, match=r"identifiers\[0\]\.value"):
        await identify(stores, [{"type": "phone", "value": "12"}], None, limits)


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_fifty_concurrent_calls_overlapping_in_a_chain_make_exactly_one_person(
    stores: Stores, unlimited: IngestLimits, db: AsyncDatabase[Document], seed: int
) -> None:
    """51 emails on one person is over the default limit; the race is what is tested here."""
    calls = [
        [
            event(
                "login",
                random.Random(seed + i).choice(["WEB", "MOBILE_APP", "EMAIL"]),
                [("email", f"user{i}@example.com"), ("email", f"user{i + 1}@example.com")],
                at=f"2026-03-01T10:{i:02d}:00Z",
                message_id=f"chain-{i}",
            )
        ]
        for i in range(50)
    ]
    random.Random(seed).shuffle(calls)
    results = await asyncio.gather(*(track(stores, batch, unlimited) for batch in calls))

    assert all(r.results[0].status is EventStatus.ACCEPTED for r in results)
    live = await db["persons"].find({"merged_into": None}).to_list()
    assert len(live) == 1
    survivor = live[0]["_id"]
    every_person = [doc["_id"] for doc in await db["persons"].find().to_list()]
    assert survivor == min(every_person)  # the oldest person survives
    identifiers = await db["identifiers"].find().to_list()
    assert len(identifiers) == 51
    assert {doc["person_id"] for doc in identifiers} == {survivor}
    events = await db["events"].find({"type": "login"}).to_list()
    assert len(events) == 50
    assert {doc["person_id"] for doc in events} == {survivor}
    assert {doc["person_id"] async for doc in db["memberships"].find()} <= {survivor}
    absorbed = await db["persons"].count_documents({"merged_into": {"$ne": None}})
    assert await db["merges"].count_documents({}) == absorbed


async def test_what_runs_alongside_the_landing_close_finds_every_person_marked_pending(
    stores: Stores, limits: IngestLimits, db: AsyncDatabase[Document]
) -> None:
    seen: list[tuple[set[str], int]] = []

    async def look(landed: Landed) -> None:
        pending = await db["persons"].count_documents(
            {"_id": {"$in": sorted(landed.persons)}, "pending_since": {"$ne": None}}
        )
        seen.append((landed.persons, pending))

    landed = await land(stores, seed_story()[:3], limits, NOW, look)
    assert seen == [(landed.persons, len(landed.persons))]
    assert len(landed.persons) >= 1
    assert await db["landings"].count_documents({}) == 0  # closed when both are done


async def _marked_soon(db: AsyncDatabase[Document], marked: Document, at_least: int) -> bool:
    """Whether at least ``at_least`` persons match ``marked`` within about three seconds:
    a write made to wait for the marks goes ahead after that, noting that they never came."""
    for _ in range(300):
        if await db["persons"].count_documents(marked) >= at_least:
            return True
        await asyncio.sleep(0.01)
    return await db["persons"].count_documents(marked) >= at_least


async def test_a_bulk_batch_leaves_its_identifiers_bounds_to_the_refresh_that_reads_them(
    stores: Stores, limits: IngestLimits, db: AsyncDatabase[Document], mongodb_uri: str
) -> None:
    """A returning customer's batch moves the last seen of most of its identifiers (620
    of them for 500 events in the benchmark): the call writes none of them, and the
    refresh, which reads the whole history anyway, keeps each identifier's span on the
    profile, where the profile's identifiers are read with it."""
    customers = [
        ("email", "ana@example.com"),
        ("facebook", "10158001234"),
        ("phone", "020 7946 0958"),
    ]
    first = [event("page_view", "WEB", customers[:2], at="2026-02-01T10:00:00Z")]
    first.append(event("call", "PHONE", customers[1:], at="2026-02-01T11:00:00Z"))
    person = (await track(stores, first, limits, NOW)).results[0].person_id
    assert person is not None
    later = [
        event("page_view", "WEB", customers[:2], at="2026-02-20T10:00:00Z"),
        event("purchase", "STORE", customers[2:], at="2026-02-21T16:30:00Z"),
    ]
    async with listening(mongodb_uri, db) as (counted, commands):
        await track(counted, later, limits, NOW)

    assert not [sent for sent in commands.targets if sent.startswith("update identifiers")]
    stored = {d["_id"]: d["last_seen"] async for d in db["identifiers"].find()}
    assert stored == {  # as their claims left them (the first call's two events)
        "email:ana@example.com": datetime(2026, 2, 1, 10, tzinfo=UTC),
        "facebook:10158001234": datetime(2026, 2, 1, 11, tzinfo=UTC),
        "phone:+442079460958": datetime(2026, 2, 1, 11, tzinfo=UTC),
    }
    profile = await find_person(stores, person)
    assert profile is not None
    held = profile.as_seen(await stores.identifiers.of_persons(profile.family))
    assert {d["_id"]: (d["first_seen"], d["last_seen"]) for d in held} == {
        "email:ana@example.com": (
            datetime(2026, 2, 1, 10, tzinfo=UTC),
            datetime(2026, 2, 20, 10, tzinfo=UTC),
        ),
        "facebook:10158001234": (
            datetime(2026, 2, 1, 10, tzinfo=UTC),
            datetime(2026, 2, 20, 10, tzinfo=UTC),
        ),
        "phone:+442079460958": (
            datetime(2026, 2, 1, 11, tzinfo=UTC),
            datetime(2026, 2, 21, 16, 30, tzinfo=UTC),
        ),
    }
    assert await db["landings"].count_documents({}) == 0


class _LinksAfterTheMarks(LinkStore):
    """Links written only once the batch's persons are marked (or after a few seconds,
    noted), and the traits each mark found already written."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        super().__init__(db)
        self._db = db
        self.marked_first: list[bool] = []

    async def record(self, proofs: Iterable[LinkProof]) -> None:
        marked = {"pending_since": {"$ne": None}}
        self.marked_first.append(await _marked_soon(self._db, marked, 1))
        await super().record(proofs)


class _TraitsSeenByTheMark(PersonStore):
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        super().__init__(db)
        self._db = db
        self.traits_when_marked: list[dict[str, Any]] = []

    async def _look(self, person_ids: Iterable[str]) -> None:
        async for doc in self._db["persons"].find({"_id": {"$in": sorted(person_ids)}}):
            self.traits_when_marked.append(doc.get("traits", {}))

    async def mark_pending(self, person_ids: Iterable[str], now: datetime, **kw: Any) -> None:
        await self._look(person_ids)
        await super().mark_pending(person_ids, now, **kw)

    async def mark_pending_if_live(
        self, person_ids: Iterable[str], now: datetime, **kw: Any
    ) -> bool:
        await self._look(person_ids)
        return await super().mark_pending_if_live(person_ids, now, **kw)


async def test_a_bulk_batch_marks_its_persons_after_their_traits_beside_its_links(
    stores: Stores, limits: IngestLimits, db: AsyncDatabase[Document]
) -> None:
    """The links an event proves are read by no refresh: the marks do not wait for them.
    The traits are: a refresh already running reads the person once marked, so the
    mark comes after them."""
    ana = [("email", "ana@example.com"), ("cookie_id", "ck-ana")]
    batch = [
        event("page_view", "WEB", ana, at="2026-02-20T10:00:00Z"),
        event("signup", "WEB", ana[:1], at="2026-02-20T10:05:00Z", traits={"firstName": "Ana"}),
    ]
    links, persons = _LinksAfterTheMarks(db), _TraitsSeenByTheMark(db)
    await land(replace(stores, links=links, persons=persons), batch, limits, NOW)

    assert links.marked_first == [True]
    assert persons.traits_when_marked == [{"firstName": "Ana"}]
    assert await db["links"].count_documents({}) == 1  # written all the same
    assert await db["landings"].count_documents({}) == 0


class _MovesWatched(EventStore):
    """Notes, as a merged person's events move, whether another batch could stitch."""

    def __init__(self, db: AsyncDatabase[Document], lock: LocalLock) -> None:
        super().__init__(db)
        self._lock = lock
        self.lock_free: list[bool] = []

    async def repoint_many(self, moves: Mapping[str, str], keep_types: Sequence[str] = ()) -> None:
        self.lock_free.append(self._lock.free())
        await super().repoint_many(moves, keep_types)


async def test_a_bulk_batch_moves_the_persons_it_merged_away_after_the_stitching_lock(
    stores: Stores, limits: IngestLimits, db: AsyncDatabase[Document]
) -> None:
    """A merge is decided under the lock by its mark; moving the absorbed person's
    events, identifiers and consents takes a dozen round trips, done beside the batch's
    own writes while other batches stitch (one meeting the absorbed person finishes the
    move itself). When the call answers, all of it has moved."""
    apart, together = customers_apart_then_together(12)
    await track(stores, apart, limits, NOW)
    assert await db["persons"].count_documents({"merged_into": None}) == 24
    lock = LocalLock()
    watched = _MovesWatched(db, lock)
    landed = await land(replace(stores, events=watched, stitching=lock), together, limits, NOW)

    assert landed.result.merges == 12
    assert watched.lock_free == [True]  # one move for all twelve, after the lock
    assert await db["persons"].count_documents({"merged_into": None}) == 12
    assert (
        await db["persons"].count_documents({"merged_into": {"$ne": None}, "settled": True}) == 12
    )
    live = {doc["_id"] async for doc in db["persons"].find({"merged_into": None})}
    assert {doc["person_id"] async for doc in db["identifiers"].find()} == live
    assert {doc["person_id"] async for doc in db["events"].find()} == live
    assert await db["merges"].count_documents({}) == 12
    assert await db["landings"].count_documents({}) == 0


class _MergedJustBefore(EventStore):
    """Events stored a moment after another call merged their person away: the other
    call's merge has moved what the person held, so these land on a tombstone."""

    def __init__(self, db: AsyncDatabase[Document], stores: Stores, survivor: str) -> None:
        super().__init__(db)
        self._stores, self._survivor = stores, survivor

    async def insert(self, documents: Sequence[Document]) -> set[str]:
        for person in {doc["person_id"] for doc in documents} - {self._survivor}:
            await merge_persons(
                self._stores, self._survivor, person, event_id=None, reason="test", now=NOW
            )
        return await super().insert(documents)


class _MergedJustBeforeTheWrite(OrderedWrites):
    """The same race for an event written with its mark in one command."""

    def __init__(self, db: AsyncDatabase[Document], stores: Stores, survivor: str, away: str):
        super().__init__(db)
        self._db, self._stores, self._survivor, self._away = db, stores, survivor, away
        self.landings_open: list[int] = []  # after each command

    async def apply(self, writes: Sequence[Write], guarded: Collection[int] = ()) -> Applied:
        await merge_persons(
            self._stores, self._survivor, self._away, event_id=None, reason="test", now=NOW
        )
        applied = await super().apply(writes, guarded)
        self.landings_open.append(await self._db["landings"].count_documents({}))
        return applied


@pytest.mark.parametrize("in_one_command", [True, False])
async def test_an_event_stored_after_its_person_was_merged_away_ends_on_the_survivor(
    stores: Stores, limits: IngestLimits, db: AsyncDatabase[Document], in_one_command: bool
) -> None:
    story = seed_story()
    facebook_person = (await track(stores, [story[0]], limits)).results[0].person_id
    form_person = (await track(stores, [story[1]], limits)).results[0].person_id
    assert facebook_person is not None
    assert form_person is not None
    in_one = _MergedJustBeforeTheWrite(db, stores, facebook_person, form_person)
    if in_one_command:  # the event, its identifiers' bounds and the mark in one write
        racing = replace(stores, ordered=in_one)
    else:  # a server without bulkWrite: the event written alone, then the mark
        racing = replace(
            stores,
            events=_MergedJustBefore(db, stores, facebook_person),
            ordered=OrderedWrites(db, available=False),
        )

    call = event("page_view", "WEB", [("cookie_id", "ck-7f3a")], at="2026-03-01T10:00:00Z")
    result = await track(racing, [call], limits)

    assert result.results[0].person_id == facebook_person  # the survivor, not the tombstone
    stored = await db["events"].find({}, {"person_id": 1}).to_list()
    assert {doc["person_id"] for doc in stored} == {facebook_person}  # settled, moved on
    tombstone = await db["persons"].find_one({"_id": form_person})
    assert tombstone is not None
    assert tombstone["merged_into"] == facebook_person
    assert "pending_since" not in tombstone  # the survivor was marked (and refreshed)
    survivor = await find_person(stores, facebook_person)
    assert survivor is not None
    assert survivor.metrics is not None
    assert survivor.metrics["channels"] == ["FACEBOOK", "WEB"]  # its refresh read the event
    if in_one_command:  # the mark refused: the landing stayed open until the event moved on
        assert in_one.landings_open[0] == 1
    assert await db["landings"].count_documents({}) == 0


class _Watched(LocalLock):
    """The stitching lock, noting the commands sent while it is held."""

    def __init__(self, commands: Commands) -> None:
        super().__init__()
        self._commands = commands
        self.under: list[list[str]] = []

    @asynccontextmanager
    async def held(self) -> AsyncIterator[None]:
        async with super().held():
            start = len(self._commands.targets)
            try:
                yield
            finally:
                self.under.append(self._commands.targets[start:])


@pytest.mark.parametrize("in_one_command", [True, False])
async def test_a_returning_customers_event_reads_what_it_needs_beside_the_duplicate_check(
    mongodb_uri: str,
    db: AsyncDatabase[Document],
    stores: Stores,
    limits: IngestLimits,
    in_one_command: bool,
) -> None:
    """Under the lock: the duplicate check and the identifiers' holdings, in one command
    where the event goes alone in its own command (its owner's facts with them), else
    sent together with the landing's opening. After it, the person
    still live is marked where it is (no read of its merge chain): with the landing's
    opening and close, the event and its identifiers' last seen in one command where
    the server takes several collections' writes at once, else the event and the mark,
    its identifiers' spans left to the refresh (cdp.profile.sightings)."""
    await track(stores, [seed_story()[1]], limits)  # Ana's web form: her email and cookie
    returning = event("page_view", "WEB", [("cookie_id", "ck-7f3a")], at="2026-03-01T10:00:00Z")
    async with listening(mongodb_uri, db) as (counted, commands):
        lock = _Watched(commands)
        ordered = OrderedWrites(counted.database, available=None if in_one_command else False)
        landed = await land(
            replace(counted, stitching=lock, ordered=ordered), [returning], limits, NOW
        )

    read = ["aggregate 1"] if in_one_command else ["aggregate identifiers", "find events"]
    beside = [] if in_one_command else ["insert landings"]
    assert [sorted(sent) for sent in lock.under] == [[*read, *beside]]
    sent = commands.targets
    after = [t for t in sent[sent.index(lock.under[0][-1]) + 1 :] if t.split()[0] != "hello"]
    if in_one_command:
        assert after[:1] == ["bulkWrite 1"]
        assert "delete landings" not in after
    else:
        end = after.index("delete landings") + 1
        assert after[:end] == ["insert events", "update persons", "delete landings"]
    assert await db["landings"].count_documents({}) == 0
    [result] = landed.result.results
    assert result.status is EventStatus.ACCEPTED
    person = await db["persons"].find_one({"_id": result.person_id})
    assert person is not None
    assert person["pending_since"] == NOW  # marked, for the refresh
    cookie = await db["identifiers"].find_one({"_id": "cookie_id:ck-7f3a"})
    assert cookie is not None
    if in_one_command:
        assert cookie["last_seen"] == datetime(2026, 3, 1, 10, tzinfo=UTC)  # widened
    else:
        assert cookie["last_seen"] < datetime(2026, 3, 1, 10, tzinfo=UTC)  # the refresh's


class _StoredByAnotherCallFirst(OrderedWrites):
    """Another call stores the same message id between the duplicate check and the write."""

    def __init__(self, db: AsyncDatabase[Document], message_id: str, person: str) -> None:
        super().__init__(db)
        self._db, self._message_id, self._person = db, message_id, person

    async def apply(self, writes: Sequence[Write], guarded: Collection[int] = ()) -> Applied:
        await self._db["events"].insert_one(
            {
                "_id": self._message_id,
                "person_id": self._person,
                "type": "page_view",
                "channel": "WEB",
                "timestamp": datetime(2026, 3, 1, 10, tzinfo=UTC),
                "received_at": NOW,
                "identifiers": [{"type": "cookie_id", "value": "ck-7f3a"}],
                "properties": {"from": "the other call"},
                "traits": {},
            }
        )
        return await super().apply(writes, guarded)


async def test_an_event_another_call_stored_first_is_answered_duplicate_and_written_once(
    stores: Stores, limits: IngestLimits, db: AsyncDatabase[Document]
) -> None:
    form = seed_story()[1]
    person = (await track(stores, [form], limits)).results[0].person_id
    assert person is not None
    returning = event(
        "page_view", "WEB", [("cookie_id", "ck-7f3a")], at="2026-03-01T10:00:00Z", message_id="pv-9"
    )
    racing = replace(stores, ordered=_StoredByAnotherCallFirst(db, "pv-9", person))

    result = await track(racing, [returning], limits)

    assert [(r.status, r.person_id) for r in result.results] == [(EventStatus.DUPLICATE, person)]
    assert await db["events"].count_documents({"_id": "pv-9"}) == 1
    stored = await db["events"].find_one({"_id": "pv-9"})
    assert stored is not None
    assert stored["properties"] == {"from": "the other call"}  # not written over
    assert await db["persons"].count_documents({"pending_since": {"$exists": True}}) == 0
    assert await db["landings"].count_documents({}) == 0  # opened in the command, closed


class _LandingChecked(OrderedWrites):
    """Notes, after each command, the landings open, the events stored and the persons
    marked pending."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        super().__init__(db)
        self._db = db
        self.seen: list[tuple[list[list[str]], list[str], list[str]]] = []

    async def apply(self, writes: Sequence[Write], guarded: Collection[int] = ()) -> Applied:
        applied = await super().apply(writes, guarded)
        landings = [doc["events"] async for doc in self._db["landings"].find()]
        events = [doc["_id"] async for doc in self._db["events"].find({}, {"_id": 1})]
        pending = self._db["persons"].find({"pending_since": {"$exists": True}}, {"_id": 1})
        self.seen.append((landings, events, [doc["_id"] async for doc in pending]))
        return applied


async def test_an_event_stored_in_one_command_leaves_its_person_refreshed_and_no_landing(
    stores: Stores, limits: IngestLimits, db: AsyncDatabase[Document]
) -> None:
    """Ana comes back and views a page. One command opens the landing, stores the event,
    writes her profile marked and refreshed at once, and closes the landing: nothing is
    left to repair or to refresh after it, and no other write follows."""
    person = (await track(stores, [seed_story()[1]], limits)).results[0].person_id
    returning = event(
        "product_view",
        "WEB",
        [("cookie_id", "ck-7f3a")],
        at="2026-03-01T10:00:00Z",
        message_id="pv-9",
        properties={"sku": "tent-2p", "category": "tents"},
    )
    checked = _LandingChecked(db)

    await track(replace(stores, ordered=checked), [returning], limits)

    assert len(checked.seen) == 1
    landings, events, pending = checked.seen[0]
    assert (landings, "pv-9" in events, pending) == ([], True, [])
    ana = await db["persons"].find_one({"_id": person})
    assert ana is not None
    assert ana["refreshed_changes"] == ana["changes"] == 2  # her form, then this page view
    assert ana["metrics"]["trail"]["viewed"] == ["tent-2p"]  # this event counted


async def test_an_event_left_to_the_refresher_leaves_its_person_marked_by_its_command(
    stores: Stores, limits: IngestLimits, db: AsyncDatabase[Document]
) -> None:
    """Told to refresh nobody before answering, the same command stores the event and
    marks Ana pending instead: a crash right after it leaves nothing of the event's to
    repair, and her refresh to the refresher's sweep."""
    person = (await track(stores, [seed_story()[1]], limits)).results[0].person_id
    returning = event(
        "page_view", "WEB", [("cookie_id", "ck-7f3a")], at="2026-03-01T10:00:00Z", message_id="pv-9"
    )
    checked = _LandingChecked(db)
    later = Refresher(
        lambda persons, now: asyncio.sleep(0),
        stores.persons.pending,
        lambda: datetime(2026, 3, 1, 10, tzinfo=UTC),
        RefreshPolicy(inline_persons=0),
    )

    await track(replace(stores, ordered=checked), [returning], limits, refresher=later)

    assert len(checked.seen) == 1
    landings, events, pending = checked.seen[0]
    assert (landings, "pv-9" in events, pending) == ([], True, [person])


async def test_a_returning_customers_event_does_not_wait_while_a_bulk_batch_stitches(
    stores: Stores, db: AsyncDatabase[Document], limits: IngestLimits
) -> None:
    """An import holds the stitching lock batch after batch; Ana browsing meanwhile, all
    of whose identifiers are hers already, needs no stitching write and goes past it. A
    newcomer's email is claimed under the lock, so that event waits its turn."""
    [form] = (await track(stores, [seed_story()[1]], limits)).results  # email and cookie
    lock = LocalLock()
    stores = replace(stores, stitching=lock)
    holding, release = asyncio.Event(), asyncio.Event()

    async def bulk_batch_stitching() -> None:
        async with lock.held():
            holding.set()
            await release.wait()

    importing = asyncio.create_task(bulk_batch_stitching())
    await holding.wait()
    browsing = event("page_view", "WEB", [("cookie_id", "ck-7f3a")], at="2026-03-01T10:00:00Z")
    [seen] = (await asyncio.wait_for(track(stores, [browsing], limits, NOW), 5)).results
    assert (seen.status, seen.person_id) == (EventStatus.ACCEPTED, form.person_id)
    ana = await db["persons"].find_one({"_id": form.person_id})
    assert ana is not None
    assert "pending_since" not in ana  # refreshed before it answered

    newcomer = event(
        "page_view", "WEB", [("email", "li.wei@example.com")], at=browsing["timestamp"]
    )
    waiting = asyncio.create_task(track(stores, [newcomer], limits, NOW))
    await asyncio.sleep(0.2)
    assert not waiting.done()
    release.set()
    await importing
    [first] = (await waiting).results
    assert first.status is EventStatus.ACCEPTED
    assert first.person_id != form.person_id


async def test_with_the_lease_a_returning_customers_event_takes_none_a_newcomers_does(
    mongodb_uri: str, db: AsyncDatabase[Document], stores: Stores, limits: IngestLimits
) -> None:
    """Instances sharing a MongoDB stitch under a lease document, two synced writes a
    call: Ana's event (her cookie is hers already) writes none; a newcomer's, whose
    email is claimed, takes the lease as before."""
    await track(stores, [seed_story()[1]], limits)  # Ana's web form: email and cookie
    browsing = event("page_view", "WEB", [("cookie_id", "ck-7f3a")], at="2026-03-01T10:00:00Z")
    newcomer = event(
        "page_view", "WEB", [("email", "li.wei@example.com")], at=browsing["timestamp"]
    )
    sent: list[list[str]] = []
    for call in (browsing, newcomer):
        async with listening(mongodb_uri, db) as (counted, commands):
            leased = replace(counted, stitching=DatabaseLock(counted.database))
            [result] = (await track(leased, [call], limits, NOW)).results
        assert result.status is EventStatus.ACCEPTED
        sent.append([target for target in commands.targets if target.endswith(" locks")])
    assert sent[0] == []
    assert "findAndModify locks" in sent[1]


async def test_a_bulk_calls_validation_lets_a_live_call_run_in_between(
    limits: IngestLimits,
) -> None:
    """Validating 500 events (emails checked, phones parsed) held the event loop 22 to
    45 ms in one go, and a live event beside the import waited as long: a hundred at a
    time, the loop turns between them."""
    batch = [
        event(
            "product_view",
            "WEB",
            [("email", f"Shopper.{n}@Example.com"), ("phone", f"+44 7911 {n:06d}")],
            at="2026-03-01T10:00:00Z",
            message_id=f"import-{n}",
        )
        for n in range(250)
    ]
    async with a_call_waiting() as turns:
        outcomes, blocked = await validated(batch, limits.rules, NOW, limits.identity)
        ran_meanwhile = turns()
    assert ran_meanwhile >= 2  # between the three slices
    assert blocked == {}
    assert [o.message_id for o in outcomes if isinstance(o, Event)] == [
        f"import-{n}" for n in range(250)
    ]


async def test_a_returning_customers_event_of_several_identifiers_goes_in_one_command(
    mongodb_uri: str, db: AsyncDatabase[Document], stores: Stores, limits: IngestLimits
) -> None:
    """Ana, known by her email and cookie, logs in with a phone number too: its claim is
    made under the lock; after it, the event, both known identifiers' last seen, her new
    trait, the mark and the links the event proves go in one command."""
    await track(stores, [seed_story()[1]], limits)  # the web form: email and cookie, 09:30
    logged_in = event(
        "login",
        "WEB",
        [("email", "ana.silva@example.com"), ("cookie_id", "ck-7f3a"), ("phone", "020 7946 0958")],
        at="2026-03-01T10:00:00Z",
        message_id="login-1",
        traits={"city": "Leeds"},
    )
    async with listening(mongodb_uri, db) as (counted, commands):
        lock = _Watched(commands)
        landed = await land(replace(counted, stitching=lock), [logged_in], limits, NOW)

    assert "insert identifiers" in lock.under[0]  # the phone, claimed while stitching
    sent = commands.targets
    after = [t for t in sent[sent.index(lock.under[0][-1]) + 1 :] if t.split()[0] != "hello"]
    assert after[:1] == ["bulkWrite 1"]
    assert "delete landings" not in after  # closed in it
    assert await db["landings"].count_documents({}) == 0
    [result] = landed.result.results
    assert result.status is EventStatus.ACCEPTED
    person = await db["persons"].find_one({"_id": result.person_id})
    assert person is not None
    assert person["traits"] == {"firstName": "Ana", "city": "Leeds"}
    assert person["pending_since"] == NOW
    seen = {doc["_id"]: doc["last_seen"] async for doc in db["identifiers"].find()}
    at_login = datetime(2026, 3, 1, 10, tzinfo=UTC)
    assert seen == {
        "email:ana.silva@example.com": at_login,
        "cookie_id:ck-7f3a": at_login,
        "phone:+442079460958": at_login,
    }
    proofs = {frozenset((doc["a"], doc["b"])): doc["event_id"] async for doc in db["links"].find()}
    assert proofs == {
        frozenset({"email:ana.silva@example.com", "cookie_id:ck-7f3a"}): "web-1",  # kept
        frozenset({"email:ana.silva@example.com", "phone:+442079460958"}): "login-1",
    }


class _LinkRacedAtTheServer(OrderedWrites):
    """The server answers the event's command (the first) as for another call's link
    stored between an upsert's look and its insert: a duplicate key at the last write,
    which is not applied."""

    raced = 0

    async def apply(self, writes: Sequence[Write], guarded: Collection[int] = ()) -> Applied:
        if self.raced:
            return await super().apply(writes, guarded)
        applied = await super().apply(writes[:-1], guarded)
        assert applied.stopped_at is None
        self.raced += 1
        return Applied(len(writes) - 1, applied.matched)


async def test_a_link_raced_at_the_end_of_the_events_command_is_written_after_it(
    stores: Stores, limits: IngestLimits, db: AsyncDatabase[Document]
) -> None:
    await track(stores, [seed_story()[1]], limits)
    with_phone = event(
        "login",
        "WEB",
        [("email", "ana.silva@example.com"), ("phone", "020 7946 0958")],
        at="2026-03-01T10:00:00Z",
        message_id="login-1",
    )

    raced = _LinkRacedAtTheServer(db)
    result = await track(replace(stores, ordered=raced), [with_phone], limits)

    assert raced.raced == 1  # the event's command, the link last in it
    assert result.results[0].status is EventStatus.ACCEPTED
    link = await db["links"].find_one({"_id": "email:ana.silva@example.com|phone:+442079460958"})
    assert link is not None
    assert link["event_id"] == "login-1"
    assert await db["landings"].count_documents({}) == 0


async def test_a_returning_customers_event_is_refreshed_from_what_was_read_beside_its_stitching(
    mongodb_uri: str, db: AsyncDatabase[Document], stores: Stores, limits: IngestLimits
) -> None:
    """Ana's profile and history come with her identifier's holdings: her refresh is
    computed from them without reading her again, counts the new event, and goes in the
    event's command, her profile marked and refreshed in one write."""
    await track(stores, [seed_story()[1]], limits)  # the web form
    from_the_app = event(
        "page_view", "MOBILE_APP", [("cookie_id", "ck-7f3a")], at="2026-03-01T10:00:00Z"
    )
    async with listening(mongodb_uri, db) as (counted, commands):
        result = await track(counted, [from_the_app], limits)

    assert "aggregate persons" not in commands.targets
    assert "aggregate 1" in commands.targets  # her identifier's holdings, with her facts
    # the event, her profile (marked and refreshed, guarded) and the rest: one command
    assert "update persons" not in commands.targets
    assert commands.targets.count("bulkWrite 1") == 1
    person = await db["persons"].find_one({"_id": result.results[0].person_id})
    assert person is not None
    assert person["metrics"]["channels"] == ["MOBILE_APP", "WEB"]
    assert "pending_since" not in person
    assert person["refreshed_changes"] == person["changes"]


async def test_a_returning_customers_event_puts_its_identifiers_span_in_her_refresh(
    mongodb_uri: str, db: AsyncDatabase[Document], stores: Stores, limits: IngestLimits
) -> None:
    """Ana's event from the app carries her cookie: its last seen goes on her profile
    with the refresh written in the event's command, not as a write of its own to the
    identifier (the embedded server commits and syncs each write of that command)."""
    await track(stores, [seed_story()[1]], limits)  # the web form: her email and cookie
    from_the_app = event(
        "page_view", "MOBILE_APP", [("cookie_id", "ck-7f3a")], at="2026-03-01T10:00:00Z"
    )
    async with listening(mongodb_uri, db) as (counted, commands):
        result = await track(counted, [from_the_app], limits)

    [command] = [sent for sent in commands.sent if "bulkWrite" in sent]
    assert [ns["ns"] for ns in command["nsInfo"] if ns["ns"].endswith(".identifiers")] == []
    cookie = await db["identifiers"].find_one({"_id": "cookie_id:ck-7f3a"})
    assert cookie is not None
    assert cookie["last_seen"] < datetime(2026, 3, 1, 10, tzinfo=UTC)  # as the form left it
    person = result.results[0].person_id
    assert person is not None
    profile = await find_person(stores, person)
    assert profile is not None
    shown = profile.as_seen(await stores.identifiers.of_persons(profile.family))
    spans = {doc["_id"]: (doc["first_seen"], doc["last_seen"]) for doc in shown}
    assert spans["cookie_id:ck-7f3a"] == (
        cookie["first_seen"],
        datetime(2026, 3, 1, 10, tzinfo=UTC),
    )


async def test_a_returning_customer_whose_profiles_were_merged_gets_her_event_counted(
    db: AsyncDatabase[Document], stores: Stores, limits: IngestLimits
) -> None:
    """Ana's web profile was merged into her Facebook one; her refresh reads the merged
    family's histories apart, so it follows her event's writes instead of going with
    them, and counts the event."""
    story = seed_story()
    facebook = (await track(stores, [story[0]], limits)).results[0].person_id
    web = (await track(stores, [story[1]], limits)).results[0].person_id
    assert facebook is not None
    assert web is not None
    ana = await merge_persons(stores, facebook, web, event_id=None, reason="test", now=NOW)
    from_the_app = event(
        "page_view", "MOBILE_APP", [("cookie_id", "ck-7f3a")], at="2026-03-01T10:00:00Z"
    )

    result = await track(stores, [from_the_app], limits)

    assert result.results[0].person_id == ana
    stored = await db["persons"].find_one({"_id": ana})
    assert stored is not None
    assert stored["metrics"]["channels"] == ["FACEBOOK", "MOBILE_APP", "WEB"]
    assert stored["refreshed_changes"] == stored["changes"]


class _AnotherCallsEventFirst(OrderedWrites):
    """Another call stores an event for the person and marks it after this call read the
    person, just before this call's own command."""

    def __init__(self, db: AsyncDatabase[Document], person: str) -> None:
        super().__init__(db)
        self._db, self._person, self._done = db, person, False

    async def apply(self, writes: Sequence[Write], guarded: Collection[int] = ()) -> Applied:
        if not self._done:
            self._done = True
            await self._db["events"].insert_one(
                {
                    "_id": "mail-1",
                    "person_id": self._person,
                    "type": "email_opened",
                    "channel": "EMAIL",
                    "timestamp": datetime(2026, 3, 1, 9, 45, tzinfo=UTC),
                    "received_at": NOW,
                    "identifiers": [{"type": "email", "value": "ana.silva@example.com"}],
                    "properties": {},
                    "traits": {},
                }
            )
            await self._db["persons"].update_one(
                {"_id": self._person}, {"$inc": {"changes": 1}, "$min": {"pending_since": NOW}}
            )
        return await super().apply(writes, guarded)


async def test_a_refresh_from_an_earlier_read_is_not_written_over_another_calls_change(
    db: AsyncDatabase[Document], stores: Stores, limits: IngestLimits
) -> None:
    """What the call read beside its stitching misses an event another call stored and
    marked since: its refresh is refused, and the person is read again and refreshed
    with both events, nothing left pending."""
    person = (await track(stores, [seed_story()[1]], limits)).results[0].person_id
    assert person is not None
    from_the_app = event(
        "page_view", "MOBILE_APP", [("cookie_id", "ck-7f3a")], at="2026-03-01T10:00:00Z"
    )

    await track(
        replace(stores, ordered=_AnotherCallsEventFirst(db, person)), [from_the_app], limits
    )

    stored = await db["persons"].find_one({"_id": person})
    assert stored is not None
    assert stored["metrics"]["channels"] == ["EMAIL", "MOBILE_APP", "WEB"]
    assert "pending_since" not in stored
    assert stored["refreshed_changes"] == stored["changes"]
