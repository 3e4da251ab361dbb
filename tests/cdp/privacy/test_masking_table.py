"""Masking without pii:read, payload by payload: support chats, forms, orders, call
notes. Emails and phone numbers are masked wherever they appear, names where a name is,
and nothing else: dates, amounts, order numbers, skus and product names stay."""

from typing import Any

import pytest

from cdp.privacy.masking import mask_json

CASES: list[tuple[str, str, Any, Any]] = [
    # (what it is, key, value sent, value a key without pii:read sees)
    ("support chat with a mobile", "text",
     "Hi, call me on +44 7911 123456 after 6pm", "Hi, call me on +44*********456 after 6pm"),
    ("chat with a national number", "text",
     "my number is 07911 123456, thanks", "my number is 079******456, thanks"),
    ("chat with a US number in brackets", "message",
     "reach me at (212) 555-0187 any time", "reach me at (21********187 any time"),
    ("chat with an email", "text",
     "I changed my email to ana.silva@example.com last week",
     "I changed my email to a***@example.com last week"),
    ("named address", "from",
     "Ana Silva <ana.silva@example.com>", "A** S**** <a***@example.com>"),
    ("quoted named address", "to", '"Bo Jensen" <bo@example.org>', '"B* J*****" <b***@example.org>'),
    ("an address after words, not a name", "note",
     "write to <ana@example.com> please", "write to <a***@example.com> please"),
    ("header line", "raw", "From: Ana Silva <ana@example.com>", "From: A** S**** <a***@example.com>"),
    ("two addresses in a cc list", "cc",
     "ana@example.com, bo@example.org", "a***@example.com, b***@example.org"),
    ("order number is not a phone", "note",
     "Order 100234567 was delivered late", "Order 100234567 was delivered late"),
    ("amount is not a phone", "note", "refund of 1234.50 EUR approved", "refund of 1234.50 EUR approved"),
    ("a birthday is not a phone", "birthday", "1990-04-02", "1990-04-02"),
    ("timestamp in text", "note", "called back at 2026-03-01 09:15", "called back at 2026-03-01 09:15"),
    ("sku stays", "sku", "TENT-2P", "TENT-2P"),
    ("product name stays", "items",
     [{"sku": "TENT-2P", "name": "Tent", "price": 129.0}],
     [{"sku": "TENT-2P", "name": "Tent", "price": 129.0}]),
    ("campaign name stays", "campaign", {"name": "Spring sale", "id": "c-12"},
     {"name": "Spring sale", "id": "c-12"}),
    ("first and last name", "traits", {"firstName": "Ana", "lastName": "Silva"},
     {"firstName": "A**", "lastName": "S****"}),
    ("display name", "traits", {"displayName": "Ana Silva"}, {"displayName": "A** S****"}),
    ("nested name object", "traits", {"name": {"first": "Ana", "last": "Silva"}},
     {"name": {"first": "A**", "last": "S****"}}),
    ("name on a web form", "form", {"name": "Ana Silva", "message": "Is my tent in stock?"},
     {"name": "A** S****", "message": "Is my tent in stock?"}),
    ("phone sent as a number", "traits", {"phone": 442079460958}, {"phone": "442******958"}),
    ("phone under its key", "contact", {"mobile": "+44 7911 123456"}, {"mobile": "+44*********456"}),
    ("email under its key", "traits", {"email": "Ana.Silva@Example.com"}, {"email": "A***@Example.com"}),
    ("city and country stay", "traits", {"city": "Leeds", "country": "GB"},
     {"city": "Leeds", "country": "GB"}),
    ("gender and income band stay", "traits", {"gender": "female", "incomeBand": "30-40k"},
     {"gender": "female", "incomeBand": "30-40k"}),
    ("call note with both", "properties",
     {"notes": "Spoke to him (bo@example.org, 020 7946 0958) about the refund"},
     {"notes": "Spoke to him (b***@example.org, 020*******958) about the refund"}),
    ("survey answer stays", "properties",
     {"question": "How likely are you to recommend us?", "answer": 9},
     {"question": "How likely are you to recommend us?", "answer": 9}),
    ("device and os stay", "properties", {"device": "mobile", "os": "iOS 17.4"},
     {"device": "mobile", "os": "iOS 17.4"}),
    ("url with an email in its query", "properties",
     {"url": "https://shop.example.com/unsubscribe?email=ana@example.com"},
     {"url": "https://shop.example.com/unsubscribe?email=a***@example.com"}),
    ("order with a delivery contact", "properties",
     {"orderId": "A-1042", "total": 54.9,
      "delivery": {"name": "Ana Silva", "phone": "+44 7911 123456", "city": "Leeds"}},
     {"orderId": "A-1042", "total": 54.9,
      "delivery": {"name": "A** S****", "phone": "+44*********456", "city": "Leeds"}}),
    ("a customer's name beside a plan's", "properties",
     {"customerName": "Bo Jensen", "plan": {"name": "Gold"}},
     {"customerName": "B* J*****", "plan": {"name": "Gold"}}),
    ("a list of chat lines", "lines",
     ["hello", "my email is bo@example.org", "and +1 212 555 0187"],
     ["hello", "my email is b***@example.org", "and +1 *********187"]),
    ("short numbers stay", "note", "room 12, table 4, 3 guests", "room 12, table 4, 3 guests"),
    ("postcode stays", "traits", {"postcode": "LS1 4AP"}, {"postcode": "LS1 4AP"}),
    ("a username is a name", "traits", {"username": "anasilva90"}, {"username": "a*********"}),
]  # fmt: skip


@pytest.mark.parametrize(("key", "sent", "seen"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_payload_is_masked_as_a_careful_person_would(key: str, sent: Any, seen: Any) -> None:
    assert mask_json(sent, key) == seen
