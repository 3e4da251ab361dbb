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


@strawberry.type
class Visit:
    id: strawberry.ID
    channel: Channel
    at: datetime
    note: str | None
    email: str = strawberry.field(extensions=[Shout()])
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
        required="yes",
    ),
    Visit(
        id=strawberry.ID("v2"),
        channel=Channel.EMAIL,
        at=datetime(2026, 2, 3, 4, 5, 6, tzinfo=UTC),
        note="called back",
        email="ben@example.com",
        required=None,  # type: ignore[arg-type]
    ),
]


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
    return (
        asyncio.run(standard.execute(document)),
        asyncio.run(fast.execute(document)),
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


def test_fragments_and_skipped_fields_answer_as_before() -> None:
    _same(
        "query { visits { ...V note @skip(if: true) at @include(if: true) } }"
        " fragment V on Visit { id channel id }"
    )


def test_the_cdp_schema_reads_event_leaves_on_the_short_path_and_masks_the_rest() -> None:
    """If strawberry renamed its plain reader the short path would silently go: this
    says so. Masked fields (an extension each) must never take it."""
    event = cdp_schema._schema.type_map["Event"]
    identifier = cdp_schema._schema.type_map["EventIdentifier"]
    assert isinstance(event, GraphQLObjectType)
    assert isinstance(identifier, GraphQLObjectType)
    assert _plain_leaf(event.fields["type"]) is not None
    assert _plain_leaf(event.fields["timestamp"]) is not None
    assert _plain_leaf(event.fields["properties"]) is None  # masked without pii:read
    assert _plain_leaf(event.fields["identifiers"]) is None  # not a leaf
    assert _plain_leaf(identifier.fields["value"]) is None  # masked
    assert cdp_schema.execution_context_class is FastLeafExecutionContext
