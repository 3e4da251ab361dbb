"""Hostile input to every mutation: a clear error or a correct result, never a crash,
nothing stored that should not be, and nothing from a user read as a MongoDB operator."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pymongo.asynchronous.database import AsyncDatabase

from cdp import bootstrap
from cdp.deps import Deps
from cdp.store import Stores
from cdp.store.database import Document, ping
from tests.resolvers.graphql import execute, operation

FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
CLEAR_ERRORS = {"BAD_USER_INPUT", "NOT_FOUND", "CONFLICT"}

hostile_text = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "$where",
            "$gt",
            "a.b",
            "",
            " ",
            "\x00",
            "\ud800",
            "\uff41\uff4e\uff41@\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.\uff43\uff4f\uff4d"  # full-width,
            "😀" * 50,
            '{"$gt": ""}',
            "'; db.dropDatabase(); '",
            "x" * 5000,
            "+44 20 7946 0958",
            "ana@example.com",
        ]
    ),
)
hostile_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.sampled_from([2**63, -(2**63) - 1, 10**30])  # beyond what BSON holds
    | st.floats(allow_nan=False)
    | hostile_text,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(hostile_text, children, max_size=4)
    ),
    max_leaves=30,
)
deep_json = st.integers(min_value=1, max_value=120).map(lambda n: _nested(n))
anything = st.one_of(hostile_json, deep_json, st.integers(), st.lists(hostile_text, max_size=3))


def _nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {"leaf": "$where"}
    for _ in range(depth):
        value = {"$or": value}
    return value


identifier = st.fixed_dictionaries({"type": hostile_text, "value": hostile_text}) | anything
event = st.fixed_dictionaries(
    {
        "type": hostile_text,
        "channel": st.sampled_from(["WEB", "FAX", "web", ""]),
        "identifiers": st.lists(identifier, max_size=3),
    },
    optional={
        "messageId": hostile_text,
        "timestamp": st.sampled_from(
            ["2026-03-01T10:00:00Z", "yesterday", "1969-01-01T00:00:00Z", "9999-01-01T00:00:00Z"]
        ),
        "properties": anything,
        "traits": anything,
    },
)


@asynccontextmanager
async def database(uri: str, deps: Deps) -> AsyncIterator[tuple[Deps, AsyncDatabase[Document]]]:
    async with bootstrap.database(uri, f"fuzz_{id(deps)}") as db:
        yield Deps(Stores.on(db), deps.limits, lambda: ping(db)), db


def operator_keys(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [k for k in value if str(k).startswith("$")] + [
            k for v in value.values() for k in operator_keys(v)
        ]
    if isinstance(value, list):
        return [k for v in value for k in operator_keys(v)]
    return []


async def check(deps: Deps, db: AsyncDatabase[Document], name: str, /, **variables: Any) -> Any:
    data, errors = await execute(deps, operation(name), **variables)
    codes = {error.get("extensions", {}).get("code") for error in errors}
    assert codes <= CLEAR_ERRORS, errors
    for collection in await db.list_collection_names():
        for doc in await db[collection].find().to_list():
            assert operator_keys(doc) == [], (collection, doc)
    return data


@FUZZ
@given(events=st.lists(event, max_size=4))
async def test_track(mongodb_uri: str, deps: Deps, events: list[Any]) -> None:
    async with database(mongodb_uri, deps) as (fuzzed, db):
        before = await db["events"].count_documents({})
        data = await check(fuzzed, db, "Track", events=events)
        stored = await db["events"].count_documents({}) - before
        if data is not None:
            assert stored == data["track"]["accepted"]
        else:
            assert stored == 0


@FUZZ
@given(identifiers=st.lists(identifier, max_size=3), traits=anything)
async def test_identify(mongodb_uri: str, deps: Deps, identifiers: list[Any], traits: Any) -> None:
    async with database(mongodb_uri, deps) as (fuzzed, db):
        await check(fuzzed, db, "Identify", identifiers=identifiers, traits=traits)


@FUZZ
@given(purpose=hostile_text, source=hostile_text, person=hostile_text, granted=st.booleans())
async def test_set_consent(
    mongodb_uri: str, deps: Deps, purpose: str, source: str, person: str, granted: bool
) -> None:
    async with database(mongodb_uri, deps) as (fuzzed, db):
        await check(
            fuzzed,
            db,
            "Track",
            events=[
                {
                    "type": "x",
                    "channel": "WEB",
                    "identifiers": [{"type": "email", "value": "ana@example.com"}],
                }
            ],
        )
        ana = (await db["persons"].find_one())["_id"]  # type: ignore[index]
        for target in (ana, person):
            await check(
                fuzzed,
                db,
                "SetConsent",
                personId=target,
                purpose=purpose,
                granted=granted,
                source=source,
            )


@FUZZ
@given(a=hostile_text, b=hostile_text, reason=hostile_text, identifier=identifier)
async def test_corrections(
    mongodb_uri: str, deps: Deps, a: str, b: str, reason: str, identifier: Any
) -> None:
    async with database(mongodb_uri, deps) as (fuzzed, db):
        await check(fuzzed, db, "MergePersons", into=a, reason=reason, **{"from": b})
        await check(
            fuzzed, db, "UnlinkIdentifier", personId=a, identifier=identifier, reason=reason
        )
        await check(fuzzed, db, "ErasePerson", id=a, reason=reason)


@FUZZ
@given(
    rules=st.lists(
        st.fixed_dictionaries(
            {
                "type": hostile_text,
                "limit": st.integers(-5, 20000),
                "strength": st.sampled_from(["STRONG", "WEAK", "MEDIUM"]),
            }
        ),
        max_size=3,
    )
)
async def test_set_identity_rules(mongodb_uri: str, deps: Deps, rules: list[Any]) -> None:
    async with database(mongodb_uri, deps) as (fuzzed, db):
        await check(fuzzed, db, "SetIdentityRules", rules=rules)


@FUZZ
@given(
    name=hostile_text,
    scopes=st.lists(st.sampled_from(["ADMIN", "PII_READ", "ROOT", "events:write"]), max_size=3),
    key_id=hostile_text,
)
async def test_api_keys(
    mongodb_uri: str, deps: Deps, name: str, scopes: list[str], key_id: str
) -> None:
    async with database(mongodb_uri, deps) as (fuzzed, db):
        await check(fuzzed, db, "CreateApiKey", name=name, scopes=scopes)
        await check(fuzzed, db, "RevokeApiKey", id=key_id)
