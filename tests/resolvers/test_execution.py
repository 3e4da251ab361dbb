"""The short path for plain leaf fields answers exactly what graphql-core's full path does."""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import strawberry
from graphql import GraphQLObjectType
from strawberry.extensions import FieldExtension
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from resolvers.execution import FastLeafExecutionContext, _plain_leaf
from resolvers.schema import schema as cdp_schema


@strawberry.enum
class Channel(enum.Enum):
    WEB = "WEB"
    EMAIL = "EMAIL"


class Shout(FieldExtension):
    """Stands for the masking extension: a field with one must never skip it."""

    def resolve(self, next_: Callable[..., Any], source: Any, info: Any, **kwargs: Any) -> Any:
        return str(next_(source, info, **kwargs)).upper()

    async def resolve_async(
        self, next_: Callable[..., Awaitable[Any]], source: Any, info: Any, **kwargs: Any
    ) -> Any:
        return str(await next_(source, info, **kwargs)).upper()


class Whisper(FieldExtension):
    """Stands for the masking extension: it offers the same change as a short path."""

    def resolve(self, next_: Callable[..., Any], source: Any, info: Any, **kwargs: Any) -> Any:
        return self.short_path(next_(source, info, **kwargs), source, info.context)

    async def resolve_async(
        self, next_: Callable[..., Awaitable[Any]], source: Any, info: Any, **kwargs: Any
    ) -> Any:
        return self.short_path(await next_(source, info, **kwargs), source, info.context)

    def short_path(self, value: Any, source: Any, context: Any) -> Any:
        return f"{value[:2]}*** ({context['who']} asked about {source.id})"


@strawberry.type
class Visit:
    id: strawberry.ID
    channel: Channel
    at: datetime
    note: str | None
    email: str = strawberry.field(extensions=[Shout()])
    phone: str | None = strawberry.field(extensions=[Whisper()])
    tags: list[str]
    companions: list[Visit]
    required: str  # None is stored on one visit: a non-null violation to report

    @strawberry.field
    def label(self, prefix: str = "#") -> str:
        return f"{prefix}{self.id}"

    @strawberry.field
    async def later(self) -> int:
        await asyncio.sleep(0)
        return 7


VISITS = [
    Visit(
        id=strawberry.ID("v1"),
        channel=Channel.WEB,
        at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        note=None,
        email="ana@example.com",
        phone="+442079460958",
        required="yes",
        tags=[],
        companions=[],
    ),
    Visit(
        id=strawberry.ID("v2"),
        channel=Channel.EMAIL,
        at=datetime(2026, 2, 3, 4, 5, 6, tzinfo=UTC),
        note="called back",
        email="ben@example.com",
        phone=None,
        required=None,  # type: ignore[arg-type]
        tags=["callback"],
        companions=[],
    ),
]
VISITS[1].companions = [VISITS[0]]  # came back with the first visitor
VISITS[0].companions = [VISITS[1]]  # who came with the second, whose `required` is null


@strawberry.type
class Query:
    @strawberry.field
    def visits(self) -> list[Visit]:
        return VISITS

    @strawberry.field
    def first(self) -> Visit:
        return VISITS[0]


def _both(document: str) -> tuple[Any, Any]:
    standard = strawberry.Schema(
        query=Query, execution_context_class=StrawberryGraphQLCoreExecutionContext
    )
    fast = strawberry.Schema(query=Query, execution_context_class=FastLeafExecutionContext)
    context = {"who": "agent-7"}
    return (
        asyncio.run(standard.execute(document, context_value=context)),
        asyncio.run(fast.execute(document, context_value=context)),
    )


def _same(document: str) -> Any:
    standard, fast = _both(document)
    assert fast.data == standard.data
    assert list(_keys(fast.data)) == list(_keys(standard.data))  # the order asked for
    assert [(e.message, e.path) for e in fast.errors or []] == [
        (e.message, e.path) for e in standard.errors or []
    ]
    return fast


def _keys(value: Any) -> Any:
    if isinstance(value, dict):
        for key, inner in value.items():
            yield key
            yield from _keys(inner)
    elif isinstance(value, list):
        for item in value:
            yield from _keys(item)


def test_plain_fields_mixed_with_resolvers_keep_values_and_order() -> None:
    result = _same('{ first { later channel label(prefix: "no.") at id note email other: id } }')
    assert result.data == {
        "first": {
            "later": 7,
            "channel": "WEB",
            "label": "no.v1",
            "at": "2026-01-02T03:04:05+00:00",
            "id": "v1",
            "note": None,
            "email": "ANA@EXAMPLE.COM",  # the extension ran
            "other": "v1",
        }
    }


def test_a_null_in_a_non_null_field_is_reported_at_its_path() -> None:
    result = _same("{ visits { id required } }")
    assert result.data is None
    assert result.errors[0].path == ["visits", 1, "required"]


def test_an_extension_with_a_short_path_is_applied_on_it_exactly_as_on_the_full_one() -> None:
    fast = _same("{ visits { id phone email } first { phone } }")
    assert fast.data["visits"][0]["phone"] == "+4*** (agent-7 asked about v1)"
    assert fast.data["visits"][1]["phone"] is None  # null: the full path answers it


class CountingFullPath(FastLeafExecutionContext):
    """Counts the fields that take graphql-core's full path."""

    calls = 0

    def execute_field(self, *args: Any, **kwargs: Any) -> Any:
        type(self).calls += 1
        return super().execute_field(*args, **kwargs)


def test_a_null_in_a_nullable_field_is_answered_on_the_short_path() -> None:
    _same("{ first { note id } }")
    counting = strawberry.Schema(query=Query, execution_context_class=CountingFullPath)
    CountingFullPath.calls = 0
    result = asyncio.run(counting.execute("{ first { note id } }"))
    assert result.data == {"first": {"note": None, "id": "v1"}}
    assert CountingFullPath.calls == 1  # `first` alone: it has a resolver


def _full_path_calls(document: str) -> int:
    CountingFullPath.calls = 0
    counting = strawberry.Schema(query=Query, execution_context_class=CountingFullPath)
    asyncio.run(counting.execute(document, context_value={"who": "agent-7"}))
    return CountingFullPath.calls


def test_lists_and_objects_of_plain_fields_take_the_short_path_whole() -> None:
    document = "{ visits { id tags companions { __typename id at tags } } }"
    fast = _same(document)
    assert [v["tags"] for v in fast.data["visits"]] == [[], ["callback"]]
    assert _full_path_calls(document) == 1  # `visits` alone: it has a resolver
    masked = "{ first { companions { companions { id phone } } } }"
    fast = _same(masked)
    assert fast.data["first"]["companions"][0]["companions"][0]["phone"].startswith("+4***")
    assert _full_path_calls(masked) == 1


def test_a_null_deep_in_a_list_is_reported_at_its_path_by_the_full_path() -> None:
    result = _same("{ first { id companions { id required } } }")
    assert result.data is None
    assert result.errors[0].path == ["first", "companions", 0, "required"]


def test_an_object_asking_for_a_field_without_a_short_path_takes_the_full_one() -> None:
    document = "{ visits { companions { id email label } } }"
    _same(document)
    assert _full_path_calls(document) > 1


def test_fragments_and_skipped_fields_answer_as_before() -> None:
    _same(
        "query { visits { ...V note @skip(if: true) at @include(if: true) } }"
        " fragment V on Visit { id channel id }"
    )


def test_the_cdp_schema_reads_event_leaves_and_masked_values_on_the_short_path() -> None:
    """If strawberry renamed its plain reader the short path would silently go: this
    says so. Masked fields take it with the masking applied; a field whose extension
    offers no short path (``Shout``) never does."""
    event = cdp_schema._schema.type_map["Event"]
    identifier = cdp_schema._schema.type_map["EventIdentifier"]
    assert isinstance(event, GraphQLObjectType)
    assert isinstance(identifier, GraphQLObjectType)
    assert _plain_leaf(event.fields["type"]) is not None
    assert _plain_leaf(event.fields["timestamp"]) is not None
    masked = [_plain_leaf(event.fields["properties"]), _plain_leaf(identifier.fields["value"])]
    assert [len(plain[1]) if plain else None for plain in masked] == [1, 1]  # the masking
    identifiers = _plain_leaf(event.fields["identifiers"])
    assert identifiers is not None  # a list read by attribute, planned with its items
    assert identifiers[1] == ()
    visit = strawberry.Schema(query=Query)._schema.type_map["Visit"]
    assert isinstance(visit, GraphQLObjectType)
    assert _plain_leaf(visit.fields["email"]) is None  # Shout has no short path
    assert _plain_leaf(visit.fields["phone"]) is not None  # Whisper has
    assert cdp_schema.execution_context_class is FastLeafExecutionContext


class Soon:
    """A value that can be awaited (as a field read by attribute may hold one)."""

    def __init__(self, value: str) -> None:
        self.value = value

    def __await__(self) -> Any:
        yield from asyncio.sleep(0).__await__()
        return self.value


@strawberry.type
class Parcel:
    note: str
    channel: Channel
    kind: str | None


@strawberry.type
class ParcelQuery:
    @strawberry.field
    def parcels(self) -> list[Parcel]:
        return [
            Parcel(note="packed", channel=Channel.EMAIL, kind=None),
            Parcel(note=Soon("on its way"), channel=Channel.WEB, kind=Soon("box")),  # type: ignore[arg-type]
            Parcel(note="delivered", channel=Channel.WEB, kind="letter"),
        ]


def test_a_value_to_await_is_awaited_whatever_plain_values_came_before_it() -> None:
    """Leaves of a class once seen plain skip the awaitable check; a value of another
    class is still checked and sent to the full path, which awaits it."""
    document = "{ parcels { note channel kind } }"
    standard = strawberry.Schema(
        query=ParcelQuery, execution_context_class=StrawberryGraphQLCoreExecutionContext
    )
    fast = strawberry.Schema(query=ParcelQuery, execution_context_class=FastLeafExecutionContext)
    expected = asyncio.run(standard.execute(document))
    result = asyncio.run(fast.execute(document))
    assert result.errors is None
    assert result.data == expected.data
    assert result.data == {
        "parcels": [
            {"note": "packed", "channel": "EMAIL", "kind": None},
            {"note": "on its way", "channel": "WEB", "kind": "box"},
            {"note": "delivered", "channel": "WEB", "kind": "letter"},
        ]
    }
