"""Why an agent changed someone's data: required, short, kept in the audit trail."""

from __future__ import annotations

from cdp.errors import BadUserInput

MAX_REASON = 500


def reason_text(reason: str) -> str:
    """The reason, trimmed; refused when empty or longer than ``MAX_REASON``."""
    text = reason.strip()
    if not text or len(text) > MAX_REASON:
        raise BadUserInput(f"reason: say why, in 1 to {MAX_REASON} characters")
    return text
