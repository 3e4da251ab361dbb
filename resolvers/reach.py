"""Which fields a GraphQL document asks for, found before anything runs.

Scopes are checked on every field a document selects, not only on its root fields:
an object that a mutation returns can be a whole profile, so what a key may read must
not depend on which root field reached it. Walking the document once, before execution,
refuses a request whole (nothing written, nothing half-answered) and costs nothing per
resolved field. The walk follows fragments and inline fragments with graphql-core's
``TypeInfo``, so every selection is attributed to the type it is made on.
"""

from __future__ import annotations

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLSchema,
    OperationDefinitionNode,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    get_named_type,
    visit,
)

Selected = tuple[str, str]  # (type name, field name)


class _Collector(Visitor):
    def __init__(self, type_info: TypeInfo) -> None:
        super().__init__()
        self.type_info = type_info
        self.found: list[Selected] = []

    def enter_field(self, node: FieldNode, *_: object) -> None:
        parent = self.type_info.get_parent_type()
        name = node.name.value
        if parent is not None and not name.startswith("__"):
            pair = (get_named_type(parent).name, name)
            if pair not in self.found:
                self.found.append(pair)


def selected_fields(
    schema: GraphQLSchema, document: DocumentNode, operation_name: str | None
) -> list[Selected]:
    """Every (type, field) the chosen operation can select, root fields first.

    Fragments are walked whole (a fragment spread under ``@skip`` still counts: the check
    is on what the document could ask for, which is the safe side). Introspection fields
    are left out: they describe the schema, not anyone's data.
    """
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    chosen = [
        op
        for op in operations
        if operation_name is None or (op.name is not None and op.name.value == operation_name)
    ]
    fragments = [d for d in document.definitions if isinstance(d, FragmentDefinitionNode)]
    found: list[Selected] = []
    for node in [*chosen[:1], *fragments]:
        type_info = TypeInfo(schema)
        collector = _Collector(type_info)
        visit(node, TypeInfoVisitor(type_info, collector))
        found += [pair for pair in collector.found if pair not in found]
    root_types = (schema.query_type, schema.mutation_type, schema.subscription_type)
    roots = {t.name for t in root_types if t}
    return sorted(found, key=lambda pair: pair[0] not in roots)  # stable: order kept within
