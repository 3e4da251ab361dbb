from cdp.privacy.masking import mask_email, mask_identifier, mask_json, mask_key, mask_phone


def test_emails_and_phones_are_masked_as_documented() -> None:
    assert mask_email("john@example.com") == "j***@example.com"
    assert mask_phone("+442079460958") == "+44*******958"
    assert mask_identifier("cookie_id", "ck-7f3a") == "ck-7f3a"  # not personal on its own
    assert mask_key("whatsapp:+447911123456") == "whatsapp:+44*******456"


def test_personal_data_in_free_json_is_masked_by_key_and_by_shape() -> None:
    masked = mask_json(
        {
            "firstName": "Ana",
            "lastName": "Silva Costa",
            "contact": {"work": "ana@acme.io", "cell": "+44 7911 123456"},
            "notes": ["call back", "bo@example.com"],
            "orderId": "1042",
            "total": 99.5,
        }
    )
    assert masked == {
        "firstName": "A**",
        "lastName": "S**** C****",
        "contact": {"work": "a***@acme.io", "cell": "+44*********456"},
        "notes": ["call back", "b***@example.com"],
        "orderId": "1042",
        "total": 99.5,
    }
