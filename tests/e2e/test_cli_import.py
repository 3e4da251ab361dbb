"""`cdp import` as a shop moving its history in: a file with good and bad rows, imported
twice, interrupted once, against a running service; nothing doubles, nothing is lost,
every bad row is written down with its reason."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from cdp.store.database import Document
from tests.e2e.server import ADMIN_KEY, CDP, Service, environment, serving

EXAMPLES = Path(__file__).parents[2] / "examples"


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    folder: Path = tmp_path_factory.mktemp("import")
    with serving({"CDP_DATA_DIR": str(folder / "data")}, folder) as running:
        yield running


def run_import(service: Service, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CDP), "import", *arguments, "--url", str(service.client.base_url)],
        env=environment({"CDP_API_KEY": ADMIN_KEY}),
        capture_output=True,
        text=True,
    )


def orders(customers: range, per_customer: int) -> list[dict[str, Any]]:
    """Store purchases; half the rows carry no message id (an export without one)."""
    rows = []
    for c in customers:
        for n in range(per_customer):
            row: dict[str, Any] = {
                "type": "purchase",
                "channel": "STORE",
                "identifiers": [{"type": "email", "value": f"shopper{c}@example.org"}],
                "timestamp": f"2026-0{1 + n % 9}-1{n % 10}T10:00:00Z",
                "properties": {"total": 10.0 + n},
            }
            if (c + n) % 2:
                row["messageId"] = f"till-{c}-{n}"
            rows.append(row)
    return rows


def stored_orders(service: Service, c: int) -> int:
    query = """query($v: String!) { personByIdentifier(type: "email", value: $v) {
      timeline(first: 1, types: ["purchase"]) { totalCount } } }"""
    answer = service.client.post(
        "/graphql", json={"query": query, "variables": {"v": f"shopper{c}@example.org"}}
    ).json()
    person = answer["data"]["personByIdentifier"]
    return 0 if person is None else int(person["timeline"]["totalCount"])


def test_good_rows_land_once_bad_rows_are_written_down_and_a_rerun_doubles_nothing(
    service: Service, tmp_path: Path
) -> None:
    good = orders(range(6), 5)
    lines = [json.dumps(row) for row in good[:10]]
    lines.append("{not json")
    lines.append(json.dumps({"type": "purchase", "channel": "STORE", "identifiers": []}))
    lines += [json.dumps(row) for row in good[10:]]
    history = tmp_path / "history.jsonl"
    history.write_text("\n".join(lines) + "\n")

    first = run_import(service, str(history), "--batch", "7")
    assert first.returncode == 0, first.stderr
    assert "read 32, accepted 30, duplicates 0, rejected 2" in first.stdout
    assert "6 persons touched" in first.stdout
    reasons = [
        json.loads(line)
        for line in (tmp_path / "history.jsonl.rejected.jsonl").read_text().splitlines()
    ]
    assert [r["line"] for r in reasons] == [11, 12]
    assert reasons[0]["reason"].startswith("not JSON")
    assert reasons[1]["reason"].startswith("NO_IDENTIFIERS")
    assert not (tmp_path / "history.jsonl.import-state.json").exists()  # finished

    again = run_import(service, str(history))
    assert "accepted 0, duplicates 30, rejected 2" in again.stdout
    side = (tmp_path / "history.jsonl.rejected.jsonl").read_text().splitlines()
    assert len(side) == 2  # the new run's reasons, not the first run's again
    assert [stored_orders(service, c) for c in range(6)] == [5] * 6


def _answer_ctrl_c() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_an_interrupted_import_carries_on_where_it_stopped(
    service: Service, tmp_path: Path
) -> None:
    rows = orders(range(100, 140), 25)  # 1,000 orders of 40 shoppers
    history = tmp_path / "big.jsonl"
    history.write_text("".join(json.dumps(row) + "\n" for row in rows))
    state = tmp_path / "big.jsonl.import-state.json"
    running = subprocess.Popen(
        [
            str(CDP),
            "import",
            str(history),
            "--batch",
            "50",
            "--in-flight",
            "1",
            "--url",
            str(service.client.base_url),
        ],
        env=environment({"CDP_API_KEY": ADMIN_KEY}),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # A suite started in the background (``make test &``) ignores Ctrl-C, and so would
        # the import it starts: give the import the terminal's default, as a user has.
        preexec_fn=_answer_ctrl_c,
    )
    deadline = time.monotonic() + 60
    while not state.exists() and running.poll() is None:
        assert time.monotonic() < deadline, "the import never wrote its position"
        time.sleep(0.02)
    running.send_signal(signal.SIGINT)  # Ctrl-C
    _, errors = running.communicate(timeout=60)
    assert running.returncode == 130, errors
    assert "interrupted; run it again" in errors
    assert "Traceback" not in errors
    assert state.exists()  # stopped part-way, its position kept

    resumed = run_import(service, str(history), "--batch", "50")
    assert resumed.returncode == 0, resumed.stderr
    accepted, duplicates = (
        int(found.group(1).replace(",", ""))
        for word in ("accepted", "duplicates")
        if (found := re.search(rf"{word} ([\d,]+)", resumed.stdout))
    )
    # carried on: what the first run stored is counted once, and only the batch in
    # flight at the interruption is sent again (a restart would resend everything)
    assert accepted + duplicates == 1000
    assert duplicates <= 50
    assert [stored_orders(service, c) for c in range(100, 140)] == [25] * 40


def test_a_csv_with_a_mapping(service: Service, tmp_path: Path) -> None:
    export = tmp_path / "crm.csv"
    export.write_text(
        "order_id,mail,first_name,amount,when\n"
        "A-1,rosa.lind@example.se,Rosa,49.90,2026-05-01T12:00:00Z\n"
        "A-2,rosa.lind@example.se,Rosa,12.50,2026-06-01T12:00:00Z\n"
        "A-3,,Nobody,5,2026-06-02T12:00:00Z\n"
    )
    mapping = tmp_path / "crm.mapping.json"
    mapping.write_text(
        json.dumps(
            {
                "type": {"value": "purchase"},
                "channel": {"value": "STORE"},
                "messageId": "order_id",
                "timestamp": "when",
                "identifiers": {"email": "mail"},
                "properties": {"total": "amount"},
                "traits": {"firstName": "first_name"},
            }
        )
    )
    done = run_import(service, str(export), "--mapping", str(mapping))
    assert done.returncode == 0, done.stderr
    assert "read 3, accepted 2, duplicates 0, rejected 1" in done.stdout
    query = """{ personByIdentifier(type: "email", value: "rosa.lind@example.se") {
      traits metrics { purchases { orders revenue } } } }"""
    person = service.client.post("/graphql", json={"query": query}).json()["data"][
        "personByIdentifier"
    ]
    assert person["traits"] == {"firstName": "Rosa"}
    assert person["metrics"]["purchases"] == {"orders": 2, "revenue": 62.4}


def test_a_mapping_naming_a_missing_column_is_refused_in_words(
    service: Service, tmp_path: Path
) -> None:
    export = tmp_path / "bad.csv"
    export.write_text("mail\nx@example.org\n")
    mapping = tmp_path / "bad.json"
    mapping.write_text(json.dumps({"type": {"value": "visit"}, "identifiers": {"email": "email"}}))
    done = run_import(service, str(export), "--mapping", str(mapping))
    assert done.returncode == 2
    assert "column 'email' is not in the file's header (mail)" in done.stderr
    assert "Traceback" not in done.stderr


async def test_the_examples_go_straight_into_a_database_when_no_service_runs(
    db: AsyncDatabase[Document], mongodb_uri: str, tmp_path: Path
) -> None:
    """The README's example files, with --direct: the seed story stitched into one person,
    the bad row written down, and a second run stores nothing twice."""
    for name in ("history.jsonl", "orders.csv", "orders.mapping.json"):
        shutil.copy(EXAMPLES / name, tmp_path / name)
    env = environment({"CDP_MONGODB_URI": mongodb_uri, "CDP_DB_NAME": db.name})

    async def direct(*arguments: str) -> subprocess.CompletedProcess[str]:
        return await asyncio.to_thread(
            subprocess.run,
            [str(CDP), "import", *arguments, "--direct"],
            env=env,
            capture_output=True,
            text=True,
        )

    history = await direct(str(tmp_path / "history.jsonl"))
    assert history.returncode == 0, history.stderr
    assert "read 7, accepted 6, duplicates 0, rejected 1" in history.stdout
    assert "1 persons touched, 1 created, 0 merges" in history.stdout  # four channels, one Ana
    [reason] = (tmp_path / "history.jsonl.rejected.jsonl").read_text().splitlines()
    assert "properties.total: must be a number" in json.loads(reason)["reason"]

    csv = await direct(
        str(tmp_path / "orders.csv"), "--mapping", str(tmp_path / "orders.mapping.json")
    )
    assert "read 4, accepted 3, duplicates 0, rejected 1" in csv.stdout
    assert "2 persons touched, 2 created" in csv.stdout  # Ben's email written two ways: one Ben

    again = await direct(str(tmp_path / "history.jsonl"))
    assert "accepted 0, duplicates 6, rejected 1" in again.stdout

    # the database named on the command line instead of in the environment
    named = await asyncio.to_thread(
        subprocess.run,
        [str(CDP), "import", str(tmp_path / "history.jsonl"), "--mongodb-uri", mongodb_uri],
        env=environment({"CDP_DB_NAME": db.name}),
        capture_output=True,
        text=True,
    )
    assert "accepted 0, duplicates 6, rejected 1" in named.stdout, named.stderr
