"""Executing a document with a short path for plain leaf fields.

A support screen's profile read completes about 600 fields, 480 of them leaves read
straight off an object (an event's ``type``, ``channel``, ``timestamp``...). graphql-core
gives each of them the full treatment: a response path, a resolve-info object, argument
parsing, two awaitable checks and a recursive completion; about 12 us a field, half of
the read's Python time. For a field that strawberry resolves by reading an attribute
(no resolver, no extension, no arguments) and whose type is a scalar or an enum, none
of that is needed when the value is there: the value is read and coerced by the type's
own ``coerce_output_value``, exactly what the full path ends with.

A field whose extensions all offer a ``short_path`` (``ShortPath``: a pure function of
the value, the object and the request's context, as the masking of personal data is)
takes the short path too, with them applied in the order strawberry applies them.

A null in a nullable field without extensions is answered as null on the short path too,
and an empty list read by attribute as an empty list (a mutation's per-event results are
mostly nulls and empty lists: no error, no code, no blocked identifiers).

Anything else takes graphql-core's path unchanged: other fields, and a leaf whose value
is missing, awaitable or refused by its scalar (so a null in a non-null field, or a bad
value, is reported by graphql-core with its path, as before). Reading an attribute has
no side effects, so falling back after a look costs nothing but the look.

Written against graphql-core 3.3 (``Executor.execute_fields``); ``pyproject.toml`` pins
the minor version, and the whole test suite runs through this class.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import cached_property
from typing import Any, Protocol, cast, runtime_checkable

from graphql import (
    GraphQLField,
    GraphQLLeafType,
    GraphQLObjectType,
    Undefined,
    is_leaf_type,
    is_list_type,
    is_non_null_type,
)
from graphql.pyutils import Path
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField

BASIC_READER = "_get_basic_result"  # strawberry.schema.schema_converter, from_resolver
DEFINITION = GraphQLCoreConverter.DEFINITION_BACKREF  # a GraphQL field's strawberry field


@runtime_checkable
class ShortPath(Protocol):
    """A field extension that can also be applied without a resolve info: what it does to
    a field's value depends on nothing but the value, its object and the context."""

    def short_path(self, value: Any, source: Any, context: Any) -> Any: ...


Transform = Callable[[Any, Any, Any], Any]
# The field's reader (object -> value), its leaf type (None: a list, answered on the short
# path only when empty), the extensions' short paths.
Plain = tuple[Callable[[Any], Any], GraphQLLeafType | None, tuple[Transform, ...]] | None


class FastLeafExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's executor, with plain leaf fields completed in one step."""

    # Per field definition, kept with it (so its id is never reused while cached).
    _plain: dict[int, tuple[GraphQLField, Plain]] = {}

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: Any,
        position_context: Any,
    ) -> Any:
        if self._wrapped_by_middleware:
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        fast: dict[str, Any] = {}
        rest: dict[str, Any] = {}
        for response_name, details in grouped_field_set.items():
            value = self._plain_value(parent_type, source_value, details)
            if value is Undefined:
                rest[response_name] = details
            else:
                fast[response_name] = value
        if not rest:
            return fast
        completed = super().execute_fields(parent_type, source_value, path, rest, position_context)
        if isinstance(completed, dict):
            return _in_order(grouped_field_set, fast, completed)
        return _merged_later(grouped_field_set, fast, completed)

    @cached_property
    def _wrapped_by_middleware(self) -> bool:
        """Whether a middleware (an extension with a ``resolve`` hook) wraps resolvers:
        then every field takes the full path. strawberry always passes a manager, empty
        unless some extension has the hook (none of ours does: see AccessControl). The
        same for the whole execution, so asked once."""
        manager = self.middleware_manager
        return manager is not None and manager.get_field_resolver(_probe) is not _probe

    def _plain_value(self, parent_type: GraphQLObjectType, source: Any, details: Any) -> Any:
        """The completed value of a plain leaf field, or Undefined to take the full path."""
        if len(details) != 1:
            return Undefined
        node = details[0].node
        if node.arguments or node.directives:
            return Undefined
        field_def = self.schema.get_field(parent_type, node.name.value)
        if field_def is None:
            return Undefined
        known = self._plain.get(id(field_def))
        if known is None or known[0] is not field_def:
            known = self._plain[id(field_def)] = (field_def, _plain_leaf(field_def))
        plain = known[1]
        if plain is None:
            return Undefined
        read, leaf, transforms = plain
        try:
            value = read(source)
            if value is None and not transforms and not is_non_null_type(field_def.type):
                return None  # what the full path answers for a null in a nullable field
            if leaf is None:  # a list: an empty one is answered empty, others go the full way
                return [] if isinstance(value, list | tuple) and not value else Undefined
            for transform in transforms:
                if value is None or self.is_awaitable(value):
                    break
                value = transform(value, source, self.context_value)
            if value is None or self.is_awaitable(value):
                return Undefined
            coerced = leaf.coerce_output_value(value)
        except Exception:  # noqa: BLE001 - the full path raises it again and reports it
            return Undefined
        return Undefined if coerced is None else coerced


def _probe(source: Any, info: Any) -> Any:
    """A resolver that no middleware has wrapped yet."""


def _plain_leaf(field_def: GraphQLField) -> Plain:
    """How to read a field straight off its object, when it is a leaf strawberry reads by
    attribute, with no extension or only extensions that offer a short path, or a list it
    reads by attribute (answered here only when empty)."""
    if field_def.args:
        return None
    kind = field_def.type.of_type if is_non_null_type(field_def.type) else field_def.type
    resolve = field_def.resolve
    # strawberry's own reader for a field with no resolver and no extension: it ignores
    # the info it is given. A strawberry that renamed it only loses speed.
    if resolve is not None and getattr(resolve, "__name__", "") == BASIC_READER:
        basic = resolve

        def read_basic(source: Any) -> Any:
            return basic(source, None)

        if is_list_type(kind):
            return read_basic, None, ()  # the empty ones only
        return (read_basic, kind, ()) if is_leaf_type(kind) else None
    if not is_leaf_type(kind):
        return None
    field = (field_def.extensions or {}).get(DEFINITION)
    if not isinstance(field, StrawberryField) or field.base_resolver is not None:
        return None
    if not field.extensions or not all(isinstance(e, ShortPath) for e in field.extensions):
        return None
    transforms = tuple(cast(ShortPath, e).short_path for e in field.extensions)
    return (
        (lambda source: field.get_result(source, info=None, args=[], kwargs={})),
        kind,
        transforms,
    )


def _in_order(
    grouped_field_set: Any, fast: dict[str, Any], completed: dict[str, Any]
) -> dict[str, Any]:
    """Both parts as one result, in the order the document asked for the fields."""
    return {
        name: fast[name] if name in fast else completed[name]
        for name in grouped_field_set
        if name in fast or name in completed
    }


async def _merged_later(
    grouped_field_set: Any, fast: dict[str, Any], completed: Awaitable[dict[str, Any]]
) -> dict[str, Any]:
    return _in_order(grouped_field_set, fast, await completed)
