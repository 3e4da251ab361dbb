"""Identity rules in force: the defaults, overridden by settings, overridden by an admin.

Defaults live in ``identity.rules``; ``CDP_IDENTITY_RULES`` (JSON) changes them per
deployment; ``setIdentityRules`` changes them at run time for every instance, stored in
the database and read at the start of every ingest call.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cdp.errors import BadUserInput
from identity import IdentityRules, Strength, TypeRule

if TYPE_CHECKING:  # settings import this module; keep storage out of their imports
    from cdp.store import Stores

_TYPE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


class RuleSetting(BaseModel):
    """One type's rule as written in settings or sent by an admin."""

    model_config = ConfigDict(extra="forbid")
    limit: int = Field(ge=1, le=10_000)
    strength: Strength
    rank: int | None = Field(default=None, ge=0, le=1000)


def apply_settings(base: IdentityRules, settings: Mapping[str, RuleSetting]) -> IdentityRules:
    """``base`` with the given types changed; a type's rank is kept unless given."""
    changed = {
        type_: TypeRule(
            s.limit, s.strength, s.rank if s.rank is not None else base.rule(type_).rank
        )
        for type_, s in settings.items()
    }
    return base.with_overrides(changed)


def parse_settings(raw: Mapping[str, Any]) -> dict[str, RuleSetting]:
    """Validate rule overrides, naming the type and field at fault."""
    parsed: dict[str, RuleSetting] = {}
    for type_, value in raw.items():
        if not isinstance(type_, str) or not _matches(type_):
            raise BadUserInput(f"rules: {type_!r} is not a valid identifier type")
        try:
            parsed[type_] = RuleSetting.model_validate(value)
        except ValidationError as error:
            first = error.errors()[0]
            field = ".".join(str(part) for part in first["loc"])
            raise BadUserInput(f"rules.{type_}.{field}: {first['msg']}") from None
    return parsed


async def current_rules(stores: Stores, base: IdentityRules) -> IdentityRules:
    stored = await stores.config.identity_rules()
    return apply_settings(base, parse_settings(stored)) if stored else base


async def set_rules(
    stores: Stores, base: IdentityRules, changes: Mapping[str, RuleSetting]
) -> IdentityRules:
    """Store an admin's changes on top of earlier ones; return the rules now in force."""
    stored = parse_settings(await stores.config.identity_rules())
    stored.update(changes)
    await stores.config.set_identity_rules(
        {t: s.model_dump(mode="json", exclude_none=True) for t, s in stored.items()}
    )
    return apply_settings(base, stored)


def _matches(type_: str) -> bool:
    return _TYPE_NAME.match(type_) is not None
