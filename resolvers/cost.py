"""What a document may cost, worked out before it runs.

One 958-byte document (``persons(first: 500)`` with ``timeline(first: 500)`` under four
aliases) ran 199 s and returned 8.5 MB, slowing every other caller. Depth and alias
limits do not catch it: it is shallow. Its size is in the page sizes: each field is
resolved once for every object of every page above it. So the cost of a document is
the number of fields it may resolve at worst: for each selected field, the product of
the page sizes (``first``, or the argument's default) along its path, summed. Lists
without a page size count once; their length is bounded by the data (a person's
identifiers, by the identity limits). Fragments and variables are followed, so the
cost is that of what would run.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLNamedType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
)
from strawberry.extensions import SchemaExtension

from cdp.errors import BadUserInput

PAGE_ARGUMENT = "first"


def document_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
) -> int:
    """The worst-case number of fields the chosen operation resolves."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    walk = _Walk(schema, fragments, variables or {})
    total = 0
    for operation in document.definitions:
        if not isinstance(operation, OperationDefinitionNode):
            continue
        if operation_name is not None and (
            operation.name is None or operation.name.value != operation_name
        ):
            continue
        root = schema.get_root_type(operation.operation)
        if root is not None:
            total += walk.cost(operation.selection_set, root, 1, ())
    return total


class _Walk:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
    ) -> None:
        self.schema, self.fragments, self.variables = schema, fragments, variables

    def cost(
        self,
        selections: SelectionSetNode,
        parent: GraphQLNamedType,
        multiplier: int,
        spreading: tuple[str, ...],
    ) -> int:
        total = 0
        for node, on_type in self._fields(selections, parent, spreading):
            fields: Mapping[str, GraphQLField] = getattr(on_type, "fields", {})
            field = fields.get(node.name.value)
            if field is None:  # __typename and introspection: no data behind them
                continue
            here = multiplier * self._page_size(node, field)
            total += here
            if node.selection_set is not None:
                total += self.cost(node.selection_set, get_named_type(field.type), here, spreading)
        return total

    def _fields(
        self, selections: SelectionSetNode, parent: GraphQLNamedType, spreading: tuple[str, ...]
    ) -> Iterator[tuple[FieldNode, GraphQLNamedType]]:
        """The fields of a selection set with the type each is selected on, fragments
        flattened (a fragment spreading itself is validation's to refuse; cut here)."""
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                yield selection, parent
            elif isinstance(selection, InlineFragmentNode):
                on = self._type(selection.type_condition, parent)
                yield from self._fields(selection.selection_set, on, spreading)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is not None and name not in spreading:
                    on = self._type(fragment.type_condition, parent)
                    yield from self._fields(fragment.selection_set, on, (*spreading, name))

    def _type(self, condition: Any, parent: GraphQLNamedType) -> GraphQLNamedType:
        named = self.schema.get_type(condition.name.value) if condition is not None else None
        return named or parent

    def _page_size(self, node: FieldNode, field: GraphQLField) -> int:
        argument = field.args.get(PAGE_ARGUMENT)
        if argument is None:
            return 1
        value: Any = argument.default_value
        for given in node.arguments or ():
            if given.name.value != PAGE_ARGUMENT:
                continue
            if isinstance(given.value, IntValueNode):
                value = int(given.value.value)
            elif isinstance(given.value, VariableNode):
                value = self.variables.get(given.value.name.value, value)
        return value if isinstance(value, int) and value > 0 else 1


class CostLimit(SchemaExtension):
    """Refuses, before anything runs, a document that may cost more than the limit."""

    limit = 100_000  # set per schema by :func:`cost_limit`

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None and context.result is None:  # not refused already
            cost = document_cost(
                context.schema._schema, document, context.operation_name, context.variables
            )
            if cost > self.limit:
                refused = BadUserInput(
                    f"this document may resolve {cost:,} fields (page sizes multiplied along "
                    f"each path, summed); at most {self.limit:,}. Ask for smaller pages or "
                    "fewer nested lists."
                )
                error = GraphQLError(refused.message, original_error=refused)
                context.result = ExecutionResult(data=None, errors=[error])
        yield


def cost_limit(limit: int) -> type[CostLimit]:
    """The extension with this limit (one class per schema, shared by its requests)."""
    return type("CostLimitOf", (CostLimit,), {"limit": limit})
