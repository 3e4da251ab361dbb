import pytest

from identity import Identifier, InvalidIdentifier, normalise_identifier


def test_an_email_typed_with_capitals_and_spaces_is_the_same_identifier() -> None:
    assert normalise_identifier("Email", "  Ana.Silva@Example.COM ", "GB") == Identifier(
        "email", "ana.silva@example.com"
    )


def test_a_national_phone_number_becomes_e164_in_the_default_region() -> None:
    national = normalise_identifier("phone", "020 7946 0958", "GB")
    international = normalise_identifier("phone", "+44 (0)20 7946 0958", "US")
    assert national == international == Identifier("phone", "+442079460958")


def test_a_whatsapp_id_is_an_international_number_without_plus() -> None:
    assert normalise_identifier("whatsapp", "447911123456", "US").value == "+447911123456"


def test_other_types_keep_their_case_because_cookie_ids_are_case_sensitive() -> None:
    assert normalise_identifier("COOKIE_ID", " Ab9-XyZ ", "GB") == Identifier(
        "cookie_id", "Ab9-XyZ"
    )
    assert normalise_identifier("facebook", "10158000000001", "GB").key == "facebook:10158000000001"


@pytest.mark.parametrize("written", ["@Ana_Silva", "ana_silva", " @ANA_SILVA "])
def test_a_social_handle_is_one_identifier_however_it_is_written(written: str) -> None:
    assert normalise_identifier("instagram", written, "GB") == Identifier("instagram", "ana_silva")


@pytest.mark.parametrize("address", ["c1@shop.test", "agent@crm.local", "old@example.invalid"])
def test_an_email_on_a_reserved_domain_is_checked_for_shape_only(address: str) -> None:
    assert normalise_identifier("email", address.upper(), "GB").value == address


def test_an_email_on_a_reserved_domain_still_needs_a_valid_shape() -> None:
    with pytest.raises(InvalidIdentifier, match="invalid characters"):
        normalise_identifier("email", "ana silva@shop.test", "GB")


@pytest.mark.parametrize(
    ("type_", "value", "field", "fragment"),
    [
        ("email", "ana.silva@", "value", "not a valid email"),
        ("email", "ana silva@example.com", "value", "not a valid email"),
        ("phone", "12", "value", "not a valid phone number"),
        ("phone", "call me", "value", "not a valid phone number"),
        ("email", "   ", "value", "empty"),
        ("device_id", "x" * 257, "value", "at most 256"),
        ("e mail", "a@b.co", "type", "not a valid identifier type"),
        ("$where", "1", "type", "not a valid identifier type"),
    ],
)
def test_malformed_identifiers_are_refused_naming_the_part(
    type_: str, value: str, field: str, fragment: str
) -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        normalise_identifier(type_, value, "GB")
    assert caught.value.field == field
    assert fragment in caught.value.message
