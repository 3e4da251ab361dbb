"""`cdp import` against the service's own `track` throughput, in one run on one service.

One ``cdp serve`` on the embedded server; first 20,000 synthetic events (those of
``bench/track_throughput.py``) go through the documented ``Track`` operation over HTTP
in batches of 500, then another 20,000 (other customers, other message ids) are written
to a JSON Lines file and imported with ``cdp import`` in its own process (batches of
500, two in flight). The import's peak memory (its resident set, from the operating
system) says whether it streams; a file ten times larger is imported too, to show it
stays flat.

Run: ``python -m bench.import_throughput`` (``--events 20000``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.service import ADMIN_KEY, graphql, machine, operation, serving, today
from bench.track_throughput import synthetic_events

CDP = Path(sys.executable).with_name("cdp")


def shifted(events: list[dict[str, Any]], tag: str, offset: int) -> list[dict[str, Any]]:
    """The same shape of traffic from other customers, with other message ids."""
    moved: list[dict[str, Any]] = json.loads(
        json.dumps(events).replace("Customer.", f"Customer.{offset}-")
    )
    for event in moved:
        event["messageId"] = f"{tag}-{event['messageId']}"
        for identifier in event["identifiers"]:
            if identifier["type"] != "email":
                identifier["value"] = f"{identifier['value']}{offset}"
    return moved


def run_import(url: str, path: Path) -> tuple[float, float]:
    """Seconds, and the import process's peak memory in MiB."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    subprocess.run(
        [str(CDP), "import", str(path), "--url", url, "--key", ADMIN_KEY],
        check=True,
        capture_output=True,
    )
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return seconds, max(peak, before) / 1024


async def measure(count: int) -> dict[str, Any]:
    async with serving() as running:
        url = str(running.http.base_url)
        events = synthetic_events(count, 5_000)
        track = operation("Track")
        started = time.perf_counter()
        for start in range(0, count, 500):
            await graphql(running.http, track, events=events[start : start + 500])
        track_rate = count / (time.perf_counter() - started)

        folder = Path(tempfile.mkdtemp())
        small = folder / "history.jsonl"
        small.write_text("".join(json.dumps(e) + "\n" for e in shifted(events, "imp", 7)))
        seconds, small_peak = await asyncio.to_thread(run_import, url, small)
        large = folder / "large.jsonl"
        with large.open("w") as out:
            for round_ in range(10):
                out.writelines(
                    json.dumps(e) + "\n" for e in shifted(events, f"big{round_}", 100 + round_)
                )
        large_seconds, large_peak = await asyncio.to_thread(run_import, url, large)
        engine = running.engine
    return {
        "engine": engine,
        "track": track_rate,
        "import": count / seconds,
        "small_peak": small_peak,
        "large": 10 * count / large_seconds,
        "large_peak": large_peak,
        "small_mib": small.stat().st_size / 2**20,
        "large_mib": large.stat().st_size / 2**20,
    }


def main(count: int) -> None:
    found = asyncio.run(measure(count))
    print(
        f"\n| {today()} | {machine(found['engine'])} | {count:,} events, 500 a call "
        f"| {found['track']:,.0f}/s | {found['import']:,.0f}/s "
        f"({found['import'] / found['track']:.0%}), peak {found['small_peak']:.0f} MiB "
        f"for {found['small_mib']:.0f} MiB | {found['large']:,.0f}/s, peak "
        f"{found['large_peak']:.0f} MiB for {found['large_mib']:.0f} MiB |"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    main(parser.parse_args().events)
