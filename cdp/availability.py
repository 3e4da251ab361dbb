"""Telling "the database is away" from a bug, for the layers that may not import pymongo.

While the embedded database restarts, or an external one is unreachable, every call that
needs it fails. That is no fault of the request and no bug of ours: the caller gets
``SERVICE_UNAVAILABLE`` (HTTP 503 with ``Retry-After``) and retries, instead of an
internal error. The test itself lives with the driver, in :mod:`cdp.store.database`.
"""

from __future__ import annotations

from cdp.errors import ServiceUnavailable
from cdp.store.database import unavailable

RETRY_AFTER_SECONDS = 2


def as_unavailable(error: BaseException | None) -> ServiceUnavailable | None:
    """The error a caller should see when ``error`` means the database is away, or None."""
    if error is None or not unavailable(error):
        return None
    return ServiceUnavailable(
        f"the database is not answering just now; retry in {RETRY_AFTER_SECONDS} s"
    )
