"""Placeholder values link nobody: what forms, apps and exports put in an empty id."""

import uuid

import pytest

from identity import IdentityRules, normalise_identifier
from identity.placeholders import Blocklist, compile_pattern

RULES = IdentityRules()

PLACEHOLDERS = [
    ("customer_id", "0"),
    ("customer_id", "null"),
    ("customer_id", "undefined"),
    ("customer_id", "None"),
    ("customer_id", "[object Object]"),
    ("customer_id", "anonymous"),
    ("crm_id", "unknown"),
    ("crm_id", "N/A"),
    ("customer_id", "{{customer.id}}"),
    ("customer_id", "${userId}"),
    ("device_id", "00000000-0000-0000-0000-000000000000"),  # a zeroed advertising id
    ("device_id", "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF"),
    ("cookie_id", "000000"),
    ("email", "noreply@shop.example.com"),
    ("email", "do-not-reply@example.org"),
    ("email", "test@test.com"),
    ("phone", "+1 212 555 5555"),
    ("phone", "+33 6 12 34 56 78"),
    ("whatsapp", "+447777777777"),
    ("facebook", "undefined"),
    ("loyalty_card", "0"),  # a type the rules do not list
]
REAL = [
    ("customer_id", "C-1001"),
    ("customer_id", "100234"),
    ("customer_id", "123"),  # sequential customer numbers are real
    ("customer_id", "111111"),
    ("crm_id", "0031t00000XyZab"),
    ("device_id", str(uuid.UUID(int=0x7F3A_1C2B_0000_4E5F_8A9B_0C1D2E3F4A5B))),
    ("cookie_id", "ck-7f3a"),
    ("email", "ana.silva@example.com"),
    ("email", "tester.jones@example.com"),
    ("phone", "+447911123456"),
    ("phone", "+442079460958"),
    ("facebook", "10158000000001"),
    ("instagram", "ana_silva"),
]


@pytest.mark.parametrize(("kind", "value"), PLACEHOLDERS)
def test_a_placeholder_is_blocked_after_normalisation(kind: str, value: str) -> None:
    identifier = normalise_identifier(kind, value, "GB")
    assert RULES.placeholder(identifier.type, identifier.value)


@pytest.mark.parametrize(("kind", "value"), REAL)
def test_a_real_identifier_is_not(kind: str, value: str) -> None:
    identifier = normalise_identifier(kind, value, "GB")
    assert not RULES.placeholder(identifier.type, identifier.value)


def test_values_compare_without_case_and_patterns_match_the_whole_value() -> None:
    blocklist = Blocklist.of(["Walk-In"], [r"shop-\d+"])
    assert blocklist.blocks("walk-in")
    assert blocklist.blocks("SHOP-12")
    assert not blocklist.blocks("shop-12-ana")  # a pattern is not a search


def test_a_pattern_that_does_not_compile_says_why() -> None:
    with pytest.raises(ValueError, match="not a valid regular expression"):
        compile_pattern("([a-z]")
