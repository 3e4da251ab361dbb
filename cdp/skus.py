"""What a sku may be: one rule for the catalogue and for the events that name products.

Catalogues write skus their own way (``"whole milk 1L"``, ``"TENT/2P"``), so any
printable text up to 128 characters is a sku; control characters (a pasted newline) and
a leading ``$`` (which MongoDB could read as an operator) are refused.
"""

from __future__ import annotations

from typing import TypeGuard

MAX_SKU_LENGTH = 128
SKU_RULE = f"printable text of 1 to {MAX_SKU_LENGTH} characters, not starting with '$'"


def is_sku(value: object) -> TypeGuard[str]:
    return (
        isinstance(value, str)
        and 1 <= len(value) <= MAX_SKU_LENGTH
        and value.isprintable()
        and not value.startswith("$")
        and bool(value.strip())
    )
