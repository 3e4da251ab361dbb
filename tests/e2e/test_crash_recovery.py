"""Crashes an operator meets: the service or its database killed with SIGKILL.

The database lives and dies with the service (its guardian stops it when the service's
pipe closes), a start that finds leftovers of a dead service clears them, and a
database that dies under a running service is restarted while calls answer 503.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from cdp.store.embedded import EmbeddedServer
from tests.e2e.server import Started, graphql, serving, start_service
from tests.resolvers.graphql import operation
from tests.stories import seed_story


def _database_of(service: Started, seconds: float = 20) -> psutil.Process:
    """The database server running under this service (beneath its guardian), waiting
    for it while the guardian starts it again after a kill: on a loaded machine (the
    suite on two workers) that took longer than the gap between two planned kills, and
    the kill found no database and never happened."""
    [guardian] = psutil.Process(service.process.pid).children()
    deadline = time.monotonic() + seconds
    while True:
        running = [p for p in guardian.children() if p.name().startswith("secantusd")]
        if len(running) == 1:
            return running[0]
        assert time.monotonic() < deadline, f"no database under the guardian: {running}"
        time.sleep(0.05)


def _eventually(check: Callable[[], bool], seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "did not happen in time"
        time.sleep(0.1)


def _track(client: httpx.Client, events: list[dict[str, object]]) -> int:
    accepted: int = graphql(client, "Track", events=events)["track"]["accepted"]
    return accepted


def _timeline_size(client: httpx.Client) -> int:
    found = graphql(client, "PersonByIdentifier", type="email", value="ana.silva@example.com")
    size: int = found["personByIdentifier"]["timeline"]["totalCount"]
    return size


def test_a_service_killed_with_sigkill_starts_again_on_the_same_folder(tmp_path: Path) -> None:
    env = {"CDP_DATA_DIR": str(tmp_path / "data")}
    first = start_service(env, tmp_path)
    database = _database_of(first)
    assert _track(first.service.client, seed_story()) == 4
    first.process.kill()  # SIGKILL: no shutdown code runs
    first.process.wait()
    first.service.client.close()
    _eventually(lambda: not database.is_running())  # its guardian stopped it

    with serving(env, tmp_path) as service:
        assert _timeline_size(service.client) == 4  # every acknowledged event is there


def test_a_database_left_running_alone_is_stopped_by_the_next_start(tmp_path: Path) -> None:
    env = {"CDP_DATA_DIR": str(tmp_path / "data")}
    first = start_service(env, tmp_path)
    database = _database_of(first)
    [guardian] = psutil.Process(first.process.pid).children()
    assert _track(first.service.client, seed_story()) == 4
    guardian.kill()  # the worst case: nobody is left to stop the database
    first.process.kill()
    first.process.wait()
    first.service.client.close()
    assert database.is_running()  # it still holds the data folder

    with serving(env, tmp_path) as service:
        assert not database.is_running()
        assert _timeline_size(service.client) == 4
        assert "left running by a cdp that ended" in service.output()


def test_the_embedded_database_killed_under_the_service_is_restarted(tmp_path: Path) -> None:
    env = {"CDP_DATA_DIR": str(tmp_path / "data")}
    started = start_service(env, tmp_path)
    client = started.service.client
    try:
        assert _track(client, seed_story()[:2]) == 2
        os.kill(_database_of(started).pid, signal.SIGKILL)
        _eventually(lambda: client.get("/healthz").status_code == 200)
        assert _track(client, seed_story()[2:]) == 2  # the service recovered by itself
        assert _timeline_size(client) == 4
        assert "the database exited with code" in (tmp_path / "data" / "secantusd.log").read_text()
    finally:
        client.close()
        started.process.terminate()
        assert started.process.wait(timeout=30) == 0


def test_while_an_external_database_is_away_calls_answer_503_with_a_code(tmp_path: Path) -> None:
    database = EmbeddedServer(tmp_path / "external")
    uri = database.start()
    back = EmbeddedServer(tmp_path / "external", port=database.port)
    env = {"CDP_MONGODB_URI": uri, "CDP_DB_NAME": f"away_{uuid.uuid4().hex[:12]}"}
    try:
        with serving(env, tmp_path) as service:
            assert _track(service.client, seed_story()[:1]) == 1
            database.stop()
            response = service.client.post(  # a read no cache can answer
                "/graphql", json={"query": "{ persons(first: 1) { edges { cursor } } }"}
            )
            assert response.status_code == 503, response.text
            assert response.headers["Retry-After"] == "2"
            [error] = response.json()["errors"]
            assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE"
            assert service.client.get("/healthz").status_code == 503

            back.start()
            _eventually(lambda: service.client.get("/healthz").status_code == 200)
            assert _track(service.client, seed_story()[1:]) == 3
    finally:
        database.stop()
        back.stop()


CUSTOMER = """
query Customer($email: String!, $phone: String!) {
  personByIdentifier(type: "email", value: $email) {
    id traits refreshPendingSince
    identifiers { type value }
    metrics { purchases { orders } }
    timeline(first: 1, types: ["purchase"]) { totalCount }
  }
  identityPath(from: {type: "email", value: $email}, to: {type: "phone", value: $phone}) {
    linked steps { eventId }
  }
}
"""


def _orders(batches: int, per_batch: int, customers: int) -> list[list[dict[str, object]]]:
    """Purchases of a few customers, each carrying the customer's email, phone and name."""
    made = []
    for b in range(batches):
        batch: list[dict[str, object]] = []
        for n in range(per_batch):
            c = (b * per_batch + n) % customers
            batch.append(
                {
                    "messageId": f"order-{b}-{n}",
                    "type": "purchase",
                    "channel": "WEB",
                    "identifiers": [
                        {"type": "email", "value": f"c{c}@example.com"},
                        {"type": "phone", "value": f"+4479111{c:05d}"},
                    ],
                    "timestamp": f"2026-03-01T{b % 24:02d}:{n:02d}:00Z",
                    "traits": {"firstName": f"Customer {c}"},
                    "properties": {"total": 10.0},
                }
            )
        made.append(batch)
    return made


def _orders_that_merge(
    batches: int, per_batch: int, customers: int
) -> list[list[dict[str, object]]]:
    """The same purchases, a customer's first two to four carrying the email and the
    phone by turns: each customer is first two persons, merged by their first order
    carrying both (a bulk batch's merges, moved after its stitching), the customers
    merging at different moments of the traffic. Each person has at most two orders
    before its merge, so no merge waits for an agent."""
    made = _orders(batches, per_batch, customers)
    for b, batch in enumerate(made):
        for n, order in enumerate(batch):
            turn, customer = divmod(b * per_batch + n, customers)
            if turn < 2 + customer % 3:
                order["identifiers"] = [order["identifiers"][turn % 2]]  # type: ignore[index]
    return made


def _single_orders(orders: int, customers: int) -> list[list[dict[str, object]]]:
    """The same purchases one a call, the customers taking turns: each customer's first
    carries the name (a first contact), the rest only the order (a returning customer's
    single event, refreshed with its own writes)."""
    return [
        [event if b == 0 else {k: v for k, v in event.items() if k != "traits"}]
        for b, batch in enumerate(_orders(orders, customers, customers))
        for event in batch
    ]


def _send_from(
    client: httpx.Client,
    batches: list[list[dict[str, object]]],
    first: int,
    service: subprocess.Popen[bytes],
) -> tuple[int, bool]:
    """Send batches in order from ``first`` until done or the service dies; returns the
    next batch to send and whether the service died. A 503 (the database restarting) or
    a call that timed out is answered, as an integration would, by sending the same
    batch again."""
    index = first
    while index < len(batches):
        body = {"query": operation("Track"), "variables": {"events": batches[index]}}
        try:
            response = client.post("/graphql", json=body)
            answered = response.status_code == 200
            # An answer is an acknowledgement only without errors: a database outage
            # must say 503 (send again), never a 200 carrying an internal error.
            assert not (answered and response.json().get("errors")), response.text
        except httpx.TransportError:
            if service.poll() is not None:
                return index, True  # killed mid-call: that batch was not acknowledged
            answered = False
        if answered:
            index += 1
        else:
            time.sleep(0.2)
    return index, False


def _customer(client: httpx.Client, c: int) -> dict[str, Any]:
    variables = {"email": f"c{c}@example.com", "phone": f"+4479111{c:05d}"}
    response = client.post("/graphql", json={"query": CUSTOMER, "variables": variables})
    body = response.json()
    assert "errors" not in body, body["errors"]
    data: dict[str, Any] = body["data"]
    return data


def _caught_up(client: httpx.Client, c: int) -> bool:
    person = _customer(client, c)["personByIdentifier"]
    return person is not None and person["refreshPendingSince"] is None


@pytest.mark.parametrize("traffic", ["batches of 25", "single events", "batches that merge"])
def test_steady_traffic_survives_sigkills_and_every_person_is_complete(
    tmp_path: Path, traffic: str
) -> None:
    """Steady track traffic; the service killed with SIGKILL at random moments three
    times and started again on the same folder; the client re-sends what was not
    acknowledged, as an integration does. At the end every event is stored once and
    every customer is whole: traits, both identifiers, the link and its proof, metrics."""
    env = {
        "CDP_DATA_DIR": str(tmp_path / "data"),
        "CDP_REFRESH_STALE_SECONDS": "1",
        "CDP_REFRESH_LAG_SECONDS": "0.5",
        "CDP_RATE_LIMIT_PER_MINUTE": "100000",  # single events: 400 calls in seconds
        "CDP_RATE_LIMIT_BURST": "10000",
    }
    # Enough traffic that each kill lands while calls are still being sent: the service
    # answers a call of 25 events in 15 to 30 ms, so three runs of at most 0.6 s use
    # fewer than 120 of the 160 batches (a multiple of 8, so every customer gets the
    # same number of orders); a single event in 5 to 15 ms, fewer than 360 of 400.
    customers = 40
    batches = _orders(160, 25, customers)
    if traffic == "single events":
        batches = _single_orders(10, customers)
    if traffic == "batches that merge":
        batches = _orders_that_merge(160, 25, customers)
    rng = random.Random(20261201)
    sent, killed_mid_call = 0, 0
    for run in range(4):
        started = start_service(env, tmp_path)
        killer = threading.Timer(rng.uniform(0.1, 0.6), started.process.kill)
        if run < 3:
            killer.start()
        sent, died = _send_from(started.service.client, batches, sent, started.process)
        if run == 3:
            break
        killer.join()
        started.process.wait()
        started.service.client.close()
        killed_mid_call += died
    assert sent == len(batches)
    assert killed_mid_call >= 2, "the kills must land during the traffic"

    client = started.service.client
    try:
        each = sum(len(batch) for batch in batches) // customers
        for c in range(customers):
            _eventually(partial(_caught_up, client, c))  # the last batches' refresh
            data = _customer(client, c)
            person, path = data["personByIdentifier"], data["identityPath"]
            assert person["traits"] == {"firstName": f"Customer {c}"}
            assert sorted(i["type"] for i in person["identifiers"]) == ["email", "phone"]
            assert person["timeline"]["totalCount"] == each  # every order stored once
            assert person["metrics"]["purchases"]["orders"] == each
            assert path["linked"]
            assert path["steps"]  # a recorded link with the event that proved it
    finally:
        client.close()
        started.process.terminate()
        started.process.wait(timeout=30)


@pytest.mark.parametrize("traffic", ["batches of 25", "single events"])
def test_steady_traffic_survives_its_database_killed_and_every_person_is_complete(
    tmp_path: Path, traffic: str
) -> None:
    """The same traffic, the database killed with SIGKILL under the running service at
    random moments: calls answer 503 meanwhile and are sent again; the guardian restarts
    it; every event is stored once and every customer is whole. A single event's writes
    go in one command that the database applies write by write: a kill can land
    between two of them."""
    env = {
        "CDP_DATA_DIR": str(tmp_path / "data"),
        "CDP_REFRESH_STALE_SECONDS": "1",
        "CDP_REFRESH_LAG_SECONDS": "0.5",
        "CDP_RATE_LIMIT_PER_MINUTE": "100000",
        "CDP_RATE_LIMIT_BURST": "10000",
    }
    customers = 40
    batches = _orders(120, 25, customers)
    if traffic == "single events":  # calls for longer than the three kills take
        batches = _single_orders(20, customers)
    rng = random.Random(20261202)
    started = start_service(env, tmp_path)
    client = started.service.client
    try:
        killed: list[int] = []

        def kill_the_database() -> None:
            database = _database_of(started)
            killed.append(database.pid)
            database.kill()

        timers = [  # apart; a kill waits for the restart before it if that is not over
            threading.Timer(earliest + rng.uniform(0, 1.0), kill_the_database)
            for earliest in (0.3, 2.0, 3.7)
        ]
        for timer in timers:
            timer.start()
        sent, died = _send_from(client, batches, 0, started.process)
        assert (sent, died) == (len(batches), False)  # the service itself never went down
        for timer in timers:
            timer.join()
        assert len(killed) == 3
        each = sum(len(batch) for batch in batches) // customers
        for c in range(customers):
            _eventually(partial(_caught_up, client, c))
            data = _customer(client, c)
            person, path = data["personByIdentifier"], data["identityPath"]
            assert person["traits"] == {"firstName": f"Customer {c}"}
            assert person["timeline"]["totalCount"] == each
            assert person["metrics"]["purchases"]["orders"] == each
            assert path["linked"]
            assert path["steps"]
    finally:
        client.close()
        started.process.terminate()
        started.process.wait(timeout=30)
