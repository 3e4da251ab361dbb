"""Who may call what, and what they see: one mechanism for every field.

``AccessControl`` runs on every field resolution. A root field (a query or a mutation)
runs only when the caller's key holds every scope ``ROOT_FIELD_SCOPES`` lists for it (a
field missing from the table is refused: fail closed, and a test checks the table covers
the schema) and its arguments hold only storable text (``resolvers.hygiene``). Without
``pii:read``, the fields in ``PII_FIELDS`` come back masked, wherever in the response
they appear.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from graphql import GraphQLResolveInfo
from strawberry.extensions import SchemaExtension

from cdp.access import Scope
from cdp.errors import Forbidden
from cdp.masking import mask_identifier, mask_json, mask_key
from resolvers.context import Context
from resolvers.hygiene import check_arguments

ROOT_TYPES = frozenset({"Query", "Mutation"})

ROOT_FIELD_SCOPES: dict[str, tuple[Scope, ...]] = {
    # writing events and traits
    "track": (Scope.EVENTS_WRITE,),
    "identify": (Scope.EVENTS_WRITE,),
    "setConsent": (Scope.EVENTS_WRITE,),
    # reading profiles
    "person": (Scope.PROFILES_READ,),
    "personByIdentifier": (Scope.PROFILES_READ,),
    "persons": (Scope.PROFILES_READ,),
    "identityPath": (Scope.PROFILES_READ,),
    "identityConflicts": (Scope.PROFILES_READ,),
    "identityRules": (Scope.PROFILES_READ,),
    "clvModel": (Scope.PROFILES_READ,),
    "segments": (Scope.PROFILES_READ,),
    "segment": (Scope.PROFILES_READ,),
    "offers": (Scope.PROFILES_READ,),
    "coPurchaseRules": (Scope.PROFILES_READ,),
    # catalogue and offers
    "upsertProducts": (Scope.OFFERS_WRITE,),
    "createOffer": (Scope.OFFERS_WRITE,),
    "updateOffer": (Scope.OFFERS_WRITE,),
    "archiveOffer": (Scope.OFFERS_WRITE,),
    "recordOfferResponse": (Scope.EVENTS_WRITE,),
    "exportPerson": (Scope.PROFILES_READ, Scope.PII_READ),
    # defining segments
    "createSegment": (Scope.SEGMENTS_WRITE,),
    "updateSegment": (Scope.SEGMENTS_WRITE,),
    "deleteSegment": (Scope.SEGMENTS_WRITE,),
    # correcting identities, privacy and keys: administrators
    "mergePersons": (Scope.ADMIN,),
    "unlinkIdentifier": (Scope.ADMIN,),
    "setIdentityRules": (Scope.ADMIN,),
    "fitClvModel": (Scope.ADMIN,),
    "recomputeSegments": (Scope.ADMIN,),
    "rebuildOfferModels": (Scope.ADMIN,),
    "erasePerson": (Scope.ADMIN,),
    "createApiKey": (Scope.ADMIN,),
    "revokeApiKey": (Scope.ADMIN,),
    "apiKeys": (Scope.ADMIN,),
}


def _identifier_value(value: Any, parent: Any) -> Any:
    return mask_identifier(parent.type, value) if isinstance(value, str) else value


def _keys(value: Any, parent: Any) -> Any:
    if isinstance(value, list):
        return [mask_key(item) for item in value]
    return mask_key(value) if isinstance(value, str) else value


def _json(value: Any, parent: Any) -> Any:
    return mask_json(value)


PII_FIELDS: dict[tuple[str, str], Callable[[Any, Any], Any]] = {
    ("Identifier", "value"): _identifier_value,
    ("EventIdentifier", "value"): _identifier_value,
    ("IdentityEdge", "from"): _keys,
    ("IdentityEdge", "to"): _keys,
    ("IdentityConflict", "identifier"): _keys,
    ("MergeRecord", "identifiers"): _keys,
    ("MergeRecord", "replacedTraits"): _json,
    ("Person", "traits"): _json,
    ("Event", "properties"): _json,
}


class AccessControl(SchemaExtension):
    def resolve(
        self,
        _next: Callable[..., Any],
        root: Any,
        info: GraphQLResolveInfo[Context],
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        principal = info.context.principal
        parent, field = info.parent_type.name, info.field_name
        if parent in ROOT_TYPES and not field.startswith("__"):
            required = ROOT_FIELD_SCOPES.get(field)
            if required is None:
                raise Forbidden(f"{field} is not open to API keys")
            missing = principal.missing(required)
            if missing:
                raise Forbidden(f"this key lacks the {missing[0].value} scope, needed for {field}")
            check_arguments(field, kwargs)
        result = _next(root, info, *args, **kwargs)
        mask = PII_FIELDS.get((parent, field))
        if mask is None or principal.allows(Scope.PII_READ):
            return result
        if inspect.isawaitable(result):
            return _masked_later(result, mask, root)
        return mask(result, root)


async def _masked_later(result: Awaitable[Any], mask: Callable[[Any, Any], Any], root: Any) -> Any:
    return mask(await result, root)
