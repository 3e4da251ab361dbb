"""`cdp recompute` recomputes the base from the command line, showing progress."""

import asyncio
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cdp.events import EventRules
from cdp.ingest import IngestLimits, track
from cdp.store import Stores
from cdp.store.database import connect, ensure_indexes
from tests.e2e.server import CDP, environment


async def test_recompute_scores_the_base_and_reports_what_changed(
    mongodb_uri: str, tmp_path: Path
) -> None:
    name = f"cli_{tmp_path.name}"[:60]
    client = connect(mongodb_uri)
    stores = Stores.on(client[name])
    await ensure_indexes(client[name])
    now = datetime.now(UTC)
    orders = [
        {
            "messageId": f"o{n}-{k}",
            "type": "purchase",
            "channel": "STORE",
            "identifiers": [{"type": "customer_id", "value": f"C{n}"}],
            "timestamp": (now - timedelta(days=10 * n + k)).isoformat(),
            "properties": {"total": 20.0 * (n + 1)},
        }
        for n in range(6)
        for k in range(n % 3 + 1)
    ]
    await track(stores, orders, IngestLimits(EventRules("GB", 65536), 1000))
    try:
        done = await asyncio.to_thread(
            subprocess.run,
            [str(CDP), "recompute"],
            env=environment({"CDP_MONGODB_URI": mongodb_uri, "CDP_DB_NAME": name}),
            capture_output=True,
            text=True,
            check=True,
        )
        # Their metrics were computed as the orders landed, so none is due; the first
        # recompute still cuts the RFM boundaries and scores all six.
        assert "6 persons (0 recomputed, 6 customers)" in done.stdout
        assert "metrics and segments: 100%" in done.stderr  # tqdm draws its bars on stderr
        scored = await client[name]["persons"].count_documents({"metrics.rfm_code": {"$ne": None}})
        assert scored == 6
    finally:
        await client.drop_database(name)
        await client.close()
