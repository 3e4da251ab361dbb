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

An object or a list read by attribute takes the short path whole when everything asked
of it does, however deep (a timeline's edges: a cursor, a node of plain fields, the
node's identifiers). Leaves and objects alike are completed by a plan made once per
document node and kept for every request (the request's context comes in with each
value), then by plain Python. The plan covers plain fields only (no
fragments, no directives, no arguments, no repeated response names, no object type with
an ``is_type_of`` check); a value it cannot answer (a null in a non-null field, a value
its scalar refuses, something awaitable, a list that is not a list) sends the whole
field back to the full path, which reports it as before.

Anything else takes graphql-core's path unchanged: other fields, and a leaf whose value
is missing, awaitable or refused by its scalar (so a null in a non-null field, or a bad
value, is reported by graphql-core with its path, as before). Reading an attribute has
no side effects, so falling back after a look costs nothing but the look.

Written against graphql-core 3.3 (``Executor.execute_fields``); ``pyproject.toml`` pins
the minor version, and the whole test suite runs through this class.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from contextlib import suppress
from enum import Enum, EnumMeta
from functools import cache, cached_property
from operator import attrgetter
from types import CoroutineType, GeneratorType
from typing import Any, NamedTuple, Protocol, cast, runtime_checkable

from graphql import (
    FieldNode,
    GraphQLEnumType,
    GraphQLField,
    GraphQLID,
    GraphQLLeafType,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    GraphQLString,
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
# The field's reader (object -> value) and the extensions' short paths; what follows the
# read (a leaf's serialising, an object's or a list's plan) is planned with the selection.
Plain = tuple[Callable[[Any], Any], tuple[Transform, ...]] | None
# (a value, or an object for a field; the request's context) -> the completed value
Complete = Callable[[Any, Any], Any]


class _FullPath(Exception):
    """A value the short path does not answer: graphql-core's full path will."""


class FastLeafExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's executor, with plain leaf fields completed in one step."""

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
        """The completed value of a plain field (a leaf, or an object or a list of plain
        fields), or Undefined to take the full path."""
        if len(details) != 1:
            return Undefined  # the same response name asked twice: merged by graphql-core
        complete = self._planned(parent_type, details[0].node)
        if complete is None:
            return Undefined
        try:
            return complete(source, self.context_value)
        except Exception:  # noqa: BLE001 - the full path answers it, and reports it
            return Undefined

    @cached_property
    def _planning(self) -> _Planning:
        return _Planning(self.schema, self.is_awaitable)

    def _planned(self, parent_type: GraphQLObjectType, node: FieldNode) -> Complete | None:
        return _planned(self._planning, parent_type, node)


class _Planning(NamedTuple):
    """What a plan is made with: the same for every request to a schema."""

    schema: GraphQLSchema
    is_awaitable: Callable[[Any], bool]


# Plans by document node and parent type, for every request: the parsed documents are
# kept (resolvers.validation), so the same nodes come back. Each entry keeps its node, type and
# planning, so an id is never reused while cached; emptied when it holds too many (a
# plan is a few microseconds to make again).
_PLANS: dict[tuple[int, int], tuple[FieldNode, GraphQLObjectType, _Planning, Complete | None]] = {}
PLANS_KEPT = 20_000


def _planned(
    planning: _Planning, parent_type: GraphQLObjectType, node: FieldNode
) -> Complete | None:
    key = (id(node), id(parent_type))
    known = _PLANS.get(key)
    if known is None or known[0] is not node or known[1] is not parent_type or known[2] != planning:
        if len(_PLANS) >= PLANS_KEPT:
            _PLANS.clear()
        plan = _field_plan(planning, parent_type, node)
        known = _PLANS[key] = (node, parent_type, planning, plan)
    return known[3]


def _field_plan(
    planning: _Planning, parent_type: GraphQLObjectType, node: FieldNode
) -> Complete | None:
    """How to complete this field from its object on the short path, or None."""
    if node.arguments or node.directives:
        return None
    name = node.name.value
    if name == "__typename":
        type_name = parent_type.name
        return lambda source, context: type_name
    field_def = planning.schema.get_field(parent_type, name)
    if field_def is None or name.startswith("__"):
        return None
    plain = _plain_of(field_def)
    value_plan = _value_plan(planning, field_def.type, node)
    if plain is None or value_plan is None:
        return None
    read, transforms = plain
    is_awaitable = _by_type(planning.is_awaitable)
    if not transforms:
        return lambda source, context: value_plan(read(source), context)

    def complete(source: Any, context: Any) -> Any:
        value = read(source)
        for transform in transforms:  # as the extension's resolve does, null or not
            if is_awaitable(value):
                raise _FullPath
            value = transform(value, source, context)
        return value_plan(value, context)

    return complete


def _value_plan(
    planning: _Planning, kind: GraphQLOutputType, node: FieldNode, *, nullable: bool = True
) -> Complete | None:
    """How to complete a value of this type on the short path, or None. Each plan
    answers null for null (raises ``_FullPath`` for it when the type is non-null: an
    error to report, with its path) and raises ``_FullPath`` for what it cannot answer."""
    is_awaitable = _by_type(planning.is_awaitable)
    if is_non_null_type(kind):
        return _value_plan(planning, kind.of_type, node, nullable=False)
    if is_leaf_type(kind):
        return _leaf_plan(is_awaitable, kind, nullable=nullable)
    if is_list_type(kind):
        item = _value_plan(planning, kind.of_type, node)
        if item is None:
            return None

        def many(value: Any, context: Any) -> Any:
            if value is None:
                if nullable:
                    return None
                raise _FullPath
            if not isinstance(value, list | tuple):
                raise _FullPath
            return [item(one, context) for one in value]

        return many
    if isinstance(kind, GraphQLObjectType):
        return _object_plan(planning, kind, node, nullable=nullable)
    return None  # an interface or a union: the full path resolves the type


def _object_plan(
    planning: _Planning, kind: GraphQLObjectType, node: FieldNode, *, nullable: bool
) -> Complete | None:
    if kind.is_type_of is not None or node.selection_set is None:
        return None
    fields: list[tuple[str, Complete]] = []
    for selection in node.selection_set.selections:
        if not isinstance(selection, FieldNode):
            return None  # a fragment
        name = selection.alias.value if selection.alias else selection.name.value
        plan = _planned(planning, kind, selection)
        if plan is None or any(name == taken for taken, _ in fields):
            return None
        fields.append((name, plan))

    def complete_object(value: Any, context: Any) -> Any:
        return {name: plan(value, context) for name, plan in fields}

    return _when_present(_by_type(planning.is_awaitable), complete_object, nullable=nullable)


@cache
def _by_type(is_awaitable: Callable[[Any], bool]) -> Callable[[Any], bool]:
    """``is_awaitable``, answered from the value's class once that class is known not to
    be awaitable: a read's leaves and objects are of a handful of classes (str, datetime,
    an enum, a record type), and the full check costs three tests for each that is not a
    str or an int. A class decides it: ``await`` looks for ``__await__`` on the class,
    not the instance (an instance attribute of that name makes graphql-core's check say
    yes but cannot be awaited either)."""

    def check(value: Any) -> bool:
        kind = type(value)
        if kind in _NOT_AWAITABLE:
            return False
        if is_awaitable(value):
            return True
        if not _awaitable_class(kind) and len(_NOT_AWAITABLE) < NOT_AWAITABLE_KEPT:
            _NOT_AWAITABLE.add(kind)
        return False

    return check


_NOT_AWAITABLE: set[type] = set()
NOT_AWAITABLE_KEPT = 1_000


def _awaitable_class(kind: type) -> bool:
    return issubclass(kind, CoroutineType | GeneratorType) or hasattr(kind, "__await__")


def _coercion(kind: GraphQLLeafType) -> Callable[[Any], Any]:
    """A leaf type's ``coerce_output_value``; for an enum strawberry maps from its Python
    enum (a scan of the values, comparing each ``.value``: two descriptor calls a value),
    its answer for each member worked out once and looked up."""
    coerce = kind.coerce_output_value
    wrapped = getattr(kind, "wrapped_cls", None)
    if not isinstance(kind, GraphQLEnumType) or not isinstance(wrapped, EnumMeta):
        return coerce
    names: dict[Enum, Any] = {}
    for member in cast(Iterable[Enum], wrapped):
        with suppress(Exception):  # a member the schema leaves out: coerced when met
            names[member] = coerce(member)

    def enum_name(value: Any) -> Any:
        name = names.get(value) if type(value) is wrapped else None
        return name if name is not None else coerce(value)

    return enum_name


def _leaf_plan(
    is_awaitable: Callable[[Any], bool], kind: GraphQLLeafType, *, nullable: bool
) -> Complete:
    """A scalar or an enum, in one step: most of a read's fields are leaves, and a chain
    of small plans (present, non-null, coerced) cost a call each per leaf. A string for
    ``String`` or ``ID`` is its own coerced value, as graphql-core's serializers say."""
    coerce = _coercion(kind)
    same = str if kind is GraphQLString or kind is GraphQLID else None

    def leaf(value: Any, context: Any) -> Any:
        if type(value) is same:
            return value
        if value is None:
            if nullable:
                return None
            raise _FullPath  # an error to report, with its path
        if type(value) not in _NOT_AWAITABLE and is_awaitable(value):
            raise _FullPath
        completed = coerce(value)
        if completed is None:  # the full path reports a value its scalar refused
            raise _FullPath
        return completed

    return leaf


def _when_present(
    is_awaitable: Callable[[Any], bool], complete: Complete, *, nullable: bool
) -> Complete:
    """``complete`` for a value that is there: null stays null (or goes to the full path
    for a non-null type), and something awaitable goes to the full path."""

    def present(value: Any, context: Any) -> Any:
        if value is None:
            if nullable:
                return None
            raise _FullPath
        if type(value) not in _NOT_AWAITABLE and is_awaitable(value):
            raise _FullPath
        return complete(value, context)

    return present


def _probe(source: Any, info: Any) -> Any:
    """A resolver that no middleware has wrapped yet."""


# Per field definition, kept with it (so its id is never reused while cached).
_PLAIN: dict[int, tuple[GraphQLField, Plain]] = {}


def _plain_of(field_def: GraphQLField) -> Plain:
    """``_plain_leaf``, worked out once per field definition."""
    known = _PLAIN.get(id(field_def))
    if known is None or known[0] is not field_def:
        known = _PLAIN[id(field_def)] = (field_def, _plain_leaf(field_def))
    return known[1]


def _plain_leaf(field_def: GraphQLField) -> Plain:
    """How to read a field straight off its object, when it is a leaf strawberry reads by
    attribute, with no extension or only extensions that offer a short path, or an object
    or a list it reads by attribute (what follows the read is planned with the selection)."""
    if field_def.args:
        return None
    kind = field_def.type.of_type if is_non_null_type(field_def.type) else field_def.type
    resolve = field_def.resolve
    # strawberry's own reader for a field with no resolver and no extension: it ignores
    # the info it is given. A strawberry that renamed it only loses speed.
    field = (field_def.extensions or {}).get(DEFINITION)
    if resolve is not None and getattr(resolve, "__name__", "") == BASIC_READER:
        return _attribute_reader(field, resolve), ()
    if not is_leaf_type(kind):
        return None
    if not isinstance(field, StrawberryField) or field.base_resolver is not None:
        return None
    if not field.extensions or not all(isinstance(e, ShortPath) for e in field.extensions):
        return None
    transforms = tuple(cast(ShortPath, e).short_path for e in field.extensions)
    read = _attribute_reader(field, lambda source, _: field.get_result(source, None, [], {}))
    return read, transforms


def _attribute_reader(field: object, basic: Callable[..., Any]) -> Callable[[Any], Any]:
    """How strawberry reads a field with no resolver: ``getattr`` of its Python name
    (the default resolver), in one call instead of three; any other default resolver
    through strawberry's own reader."""
    if (
        isinstance(field, StrawberryField)
        and field.base_resolver is None
        and field.default_resolver is getattr
        and field.python_name
    ):
        return attrgetter(field.python_name)
    return lambda source: basic(source, None)


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
