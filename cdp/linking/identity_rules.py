"""Identity rules in force: the defaults, overridden by settings, overridden by an admin.

Defaults live in ``identity.rules``; ``CDP_IDENTITY_RULES`` (JSON) changes them per
deployment; ``setIdentityRules`` changes them at run time for every instance, stored in
the database and read at the start of every ingest call.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from cdp.errors import BadUserInput
from identity import IdentityRules, Strength, TypeRule
from identity.placeholders import Blocklist, compile_pattern

if TYPE_CHECKING:  # settings import this module; keep storage out of their imports
    from cdp.store import Stores

_TYPE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


class RuleSetting(BaseModel):
    """One type's rule as written in settings or sent by an admin; what is left out
    stays as it was."""

    model_config = ConfigDict(extra="forbid")
    limit: int | None = Field(default=None, ge=1, le=10_000)
    strength: Strength | None = None
    rank: int | None = Field(default=None, ge=0, le=1000)
    blocked_values: list[Annotated[str, Field(max_length=256)]] | None = Field(
        default=None, max_length=1000
    )
    blocked_patterns: list[str] | None = Field(default=None, max_length=100)
    trusted: bool | None = None

    @field_validator("blocked_patterns")
    @classmethod
    def _patterns_compile(cls, patterns: list[str] | None) -> list[str] | None:
        for pattern in patterns or []:
            compile_pattern(pattern)  # ValueError names what is wrong
        return patterns


def apply_settings(base: IdentityRules, settings: Mapping[str, RuleSetting]) -> IdentityRules:
    """``base`` with the given types changed."""
    return base.with_overrides({t: _changed(base.rule(t), s) for t, s in settings.items()})


def _changed(rule: TypeRule, setting: RuleSetting) -> TypeRule:
    blocked = rule.blocked
    if setting.blocked_values is not None or setting.blocked_patterns is not None:
        blocked = Blocklist.of(
            setting.blocked_values if setting.blocked_values is not None else blocked.values,
            setting.blocked_patterns if setting.blocked_patterns is not None else blocked.patterns,
        )
    return TypeRule(
        setting.limit if setting.limit is not None else rule.limit,
        setting.strength if setting.strength is not None else rule.strength,
        setting.rank if setting.rank is not None else rule.rank,
        blocked,
        setting.trusted if setting.trusted is not None else rule.trusted,
    )


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


async def rule_changes(stores: Stores) -> list[dict[str, Any]]:
    """Who changed the identity rules, when and how: the last hundred, newest first."""
    return await stores.config.identity_rule_changes()


async def blocked_counts(stores: Stores) -> dict[str, int]:
    """Placeholder identifiers dropped so far, per type."""
    return await stores.config.blocked_counts()


async def set_rules(
    stores: Stores,
    base: IdentityRules,
    changes: Mapping[str, RuleSetting],
    *,
    agent: str | None = None,
    now: datetime | None = None,
) -> IdentityRules:
    """Store an admin's changes on top of earlier ones; return the rules now in force."""
    stored = parse_settings(await stores.config.identity_rules())
    for type_, change in changes.items():
        earlier = stored.get(type_, RuleSetting())
        stored[type_] = earlier.model_copy(update=change.model_dump(exclude_none=True))
    asked = {t: c.model_dump(mode="json", exclude_none=True) for t, c in changes.items()}
    await stores.config.set_identity_rules(
        {t: s.model_dump(mode="json", exclude_none=True) for t, s in stored.items()},
        {"at": now or datetime.now(UTC), "agent": agent, "changes": asked},
    )
    return apply_settings(base, stored)


def _matches(type_: str) -> bool:
    return _TYPE_NAME.match(type_) is not None
