"""Realistic event builders: several channels, social ids, a phone written two ways,
an email with stray capitals and spaces."""

from __future__ import annotations

from typing import Any


def event(
    type_: str,
    channel: str,
    identifiers: list[tuple[str, str]],
    *,
    at: str,
    message_id: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "type": type_,
        "channel": channel,
        "identifiers": [{"type": t, "value": v} for t, v in identifiers],
        "timestamp": at,
    }
    if message_id:
        raw["messageId"] = message_id
    raw.update(extra)
    return raw


def seed_story() -> list[dict[str, Any]]:
    """Ana writes on Facebook, fills in the web form, phones the shop, logs in on the app."""
    return [
        event(
            "message_received",
            "FACEBOOK",
            [("facebook", "10158000000001")],
            at="2026-03-01T09:00:00Z",
            message_id="fb-1",
            properties={"text": "Is my order on its way?"},
        ),
        event(
            "contact_form_submitted",
            "WEB",
            [("email", "ana.silva@example.com"), ("cookie_id", "ck-7f3a")],
            at="2026-03-01T09:30:00Z",
            message_id="web-1",
            properties={"subject": "Order 1042"},
            traits={"firstName": "Ana"},
        ),
        event(
            "call_received",
            "PHONE",
            [("phone", "+44 20 7946 0958"), ("email", "  Ana.Silva@Example.COM ")],
            at="2026-03-01T11:00:00Z",
            message_id="call-1",
            properties={"durationSeconds": 240},
        ),
        event(
            "login",
            "MOBILE_APP",
            [("facebook", "10158000000001"), ("email", "ana.silva@example.com")],
            at="2026-03-02T08:15:00Z",
            message_id="app-1",
        ),
    ]


def customers_apart_then_together(
    count: int,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Customers first seen apart, by email and by cookie (two persons each; twelve of
    them make a bulk batch's worth of identifiers), then a batch of their logins carrying
    both, which merges each customer's two persons."""
    apart = [
        event("page_view", "WEB", [("email", f"c{n}@example.com")], at="2026-02-01T10:00:00Z")
        for n in range(count)
    ] + [
        event("page_view", "WEB", [("cookie_id", f"ck-{n}")], at="2026-02-01T11:00:00Z")
        for n in range(count)
    ]
    logins = [
        event(
            "login",
            "MOBILE_APP",
            [("email", f"c{n}@example.com"), ("cookie_id", f"ck-{n}")],
            at="2026-02-02T09:00:00Z",
            message_id=f"login-{n}",
        )
        for n in range(count)
    ]
    return apart, logins
