"""The Schema object: every query and mutation type merged into one root each."""

from __future__ import annotations

import strawberry
from strawberry.printer import print_schema
from strawberry.tools import merge_types

from resolvers.errors import CdpSchema
from resolvers.identity import IdentityMutation, IdentityQuery
from resolvers.ingest import IngestMutation
from resolvers.queries import ProfileQuery

Query = merge_types("Query", (ProfileQuery, IdentityQuery))
Mutation = merge_types("Mutation", (IngestMutation, IdentityMutation))


def build_schema() -> strawberry.Schema:
    return CdpSchema(query=Query, mutation=Mutation)


schema = build_schema()


def sdl() -> str:
    """The schema as SDL: what ``schema/schema.graphql`` must hold."""
    return print_schema(schema) + "\n"
