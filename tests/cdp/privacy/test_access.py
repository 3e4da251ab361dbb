import pytest

from cdp.errors import BadUserInput
from cdp.privacy.access import (
    ANONYMOUS,
    Principal,
    Scope,
    bearer_key,
    key_hash,
    new_key,
    parse_scopes,
)


def test_admin_holds_every_scope_and_others_only_their_own() -> None:
    admin = Principal("k1", "ops", frozenset({Scope.ADMIN}))
    reader = Principal("k2", "frontend", frozenset({Scope.PROFILES_READ}))
    assert all(admin.allows(scope) for scope in Scope)
    assert reader.allows(Scope.PROFILES_READ)
    assert reader.missing([Scope.PROFILES_READ, Scope.PII_READ]) == [Scope.PII_READ]
    assert not any(ANONYMOUS.allows(scope) for scope in Scope)


def test_keys_are_random_and_only_their_hash_is_kept() -> None:
    first, second = new_key(), new_key()
    assert first != second
    assert first.startswith("cdp_")
    assert len(first) > 40
    assert key_hash(first) == key_hash(first) != key_hash(second)
    assert first not in key_hash(first)


@pytest.mark.parametrize(
    ("header", "key"),
    [
        ("Bearer cdp_abc", "cdp_abc"),
        ("bearer  cdp_abc ", "cdp_abc"),
        ("Basic xyz", None),
        ("Bearer ", None),
        (None, None),
    ],
)
def test_the_key_is_read_from_a_bearer_header(header: str | None, key: str | None) -> None:
    assert bearer_key(header) == key


def test_scopes_are_parsed_from_a_comma_list_with_a_clear_error() -> None:
    assert parse_scopes("events:write, PROFILES_READ,admin") == {
        Scope.EVENTS_WRITE,
        Scope.PROFILES_READ,
        Scope.ADMIN,
    }
    with pytest.raises(BadUserInput, match="'events:delete' is not a scope"):
        parse_scopes("events:delete")
    with pytest.raises(BadUserInput, match="at least one"):
        parse_scopes(" , ")
