"""Importing a file: streamed, batched, resumable, idempotent.

The file is read line by line (memory stays flat whatever its size) and sent to
``track`` in batches (through a running service, or straight into the database when
none runs: :mod:`cdp.importing.direct`), a few in flight at once; the service stores each event
once by its message id, so a re-run stores nothing twice. After each round of batches
the position reached is written beside the file (``<file>.import-state.json``); an
interrupted import started again carries on from there, and a finished one removes it.
Rows that cannot be sent, and events the service rejects, go to ``<file>.rejected.jsonl``
with their line and reason. A database that is away (503) or a rate limit (429) is
waited out, as ``Retry-After`` says.
"""

from __future__ import annotations

import asyncio
import csv
import json
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field
from itertools import islice
from pathlib import Path
from typing import IO, Any

import httpx

from cdp.importing.rows import Row, check_mapping, csv_rows, json_lines

TRACK = """mutation Track($events: [EventInput!]!) {
  track(events: $events) {
    personsCreated merges results { messageId status personId error errorCode field }
  }
}"""
MAX_WAIT_SECONDS = 30.0
ATTEMPTS = 20


class ImportFailed(Exception):
    """The import cannot go on (a bad key, a bad mapping, a service that never answers)."""


@dataclass(slots=True)
class Tally:
    read: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    persons_created: int = 0
    merges: int = 0
    persons: set[str] = field(default_factory=set)  # touched by this run (not kept on resume)

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "persons": len(self.persons)}


@dataclass(slots=True)
class State:
    """Where an interrupted import of this file stopped."""

    size: int
    line: int  # the next line to read (1-based)
    tally: dict[str, int]

    @staticmethod
    def path_for(path: Path) -> Path:
        return path.with_name(path.name + ".import-state.json")


def read_state(path: Path) -> State | None:
    saved = State.path_for(path)
    try:
        found = json.loads(saved.read_text())
        state = State(int(found["size"]), int(found["line"]), dict(found["tally"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    # a file that shrank is another file: start over
    return state if state.size <= path.stat().st_size else None


def write_state(path: Path, state: State) -> None:
    saved = State.path_for(path)
    temporary = saved.with_suffix(".tmp")
    temporary.write_text(json.dumps(asdict(state)))
    os.replace(temporary, saved)  # whole or not at all, even if the import is killed


Sender = Callable[[list[dict[str, Any]]], Awaitable[dict[str, Any]]]
"""Sends one batch of events; answers as ``track`` does (GraphQL names): ``results`` for
each event, ``personsCreated`` and ``merges`` for the batch."""


@asynccontextmanager
async def through_service(url: str, key: str) -> AsyncIterator[Sender]:
    """A sender to a running service's ``track`` (the embedded database keeps one owner)."""
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=120.0) as client:

        async def send(events: list[dict[str, Any]]) -> dict[str, Any]:
            return await _send(client, events)

        yield send


async def import_file(
    path: Path,
    send: Sender,
    *,
    fmt: str = "jsonl",
    mapping: dict[str, Any] | None = None,
    batch: int = 500,
    in_flight: int = 2,
    progress: Callable[[int, Tally], None] = lambda done, tally: None,
) -> Tally:
    """Import ``path``; returns the counts (those of an earlier interrupted run included)."""
    state = read_state(path)
    before = state.tally if state else {}
    tally = Tally(
        read=before.get("read", 0),
        accepted=before.get("accepted", 0),
        duplicates=before.get("duplicates", 0),
        rejected=before.get("rejected", 0),
        persons_created=before.get("persons_created", 0),
        merges=before.get("merges", 0),
    )
    first = state.line if state else 1
    rejects = path.with_name(path.name + ".rejected.jsonl")
    size = path.stat().st_size  # noqa: ASYNC240 - once, before anything is sent
    # a resumed import adds to the reasons written so far; a new one starts them over
    side = "a" if state else "w"
    with path.open(encoding="utf-8", newline="") as handle, rejects.open(side) as rejected:
        rows = _open_rows(handle, fmt, mapping, first)
        while True:
            round_ = list(islice(rows, batch * in_flight))
            if not round_:
                break
            tally.read += len(round_)
            sendable = [row for row in round_ if row.event is not None]
            for row in round_:
                if row.rejected is not None:
                    tally.rejected += 1
                    rejected.write(json.dumps({"line": row.line, "reason": row.rejected}) + "\n")
            chunks = [sendable[i : i + batch] for i in range(0, len(sendable), batch)]
            answers = await asyncio.gather(
                *(send([row.event for row in chunk if row.event is not None]) for chunk in chunks)
            )
            for chunk, answer in zip(chunks, answers, strict=True):
                tally.persons_created += answer.get("personsCreated", 0)
                tally.merges += answer.get("merges", 0)
                for row, result in zip(chunk, answer["results"], strict=True):
                    _count(tally, row, result, rejected)
            rejected.flush()
            write_state(path, State(size, round_[-1].line + 1, tally.to_json()))
            progress(round_[-1].line, tally)
    State.path_for(path).unlink(missing_ok=True)
    return tally


def _open_rows(
    handle: IO[str], fmt: str, mapping: dict[str, Any] | None, first: int
) -> Iterator[Row]:
    if fmt == "jsonl":
        return json_lines(_lines_from(handle, 1, first), first_line=first)
    header = _csv_header(handle)
    checked = check_mapping(mapping, header)
    return csv_rows(
        _lines_from(handle, 2, max(first, 2)), header, checked, first_line=max(first, 2)
    )


def _csv_header(handle: IO[str]) -> list[str]:
    return [column.strip() for column in next(csv.reader([handle.readline()]), [])]


def _lines_from(handle: IO[str], at: int, start: int) -> Iterator[str]:
    """The handle's lines from line ``start`` on (the handle stands at line ``at``)."""
    for number, line in enumerate(iter(handle.readline, ""), start=at):
        if number >= start:
            yield line


def _count(tally: Tally, row: Row, result: dict[str, Any], rejected: IO[str]) -> None:
    status = result.get("status")
    if status == "ACCEPTED":
        tally.accepted += 1
    elif status == "DUPLICATE":
        tally.duplicates += 1
    else:
        tally.rejected += 1
        reason = f"{result.get('errorCode')}: {result.get('error')}"
        rejected.write(json.dumps({"line": row.line, "reason": reason, "event": row.event}) + "\n")
        return
    if result.get("personId"):
        tally.persons.add(result["personId"])


async def _send(client: httpx.AsyncClient, events: list[dict[str, Any]]) -> dict[str, Any]:
    body = {"query": TRACK, "variables": {"events": events}}
    wait = 0.5
    for _ in range(ATTEMPTS):
        try:
            response = await client.post("/graphql", json=body)
        except httpx.TransportError:
            await asyncio.sleep(wait)
            wait = min(wait * 2, MAX_WAIT_SECONDS)
            continue
        if response.status_code in (429, 503):
            after = float(response.headers.get("Retry-After", wait))
            await asyncio.sleep(min(after, MAX_WAIT_SECONDS))
            continue
        answer = response.json()
        if response.status_code == 401:
            raise ImportFailed("the service refused the key: pass --key (or set CDP_API_KEY)")
        errors = answer.get("errors") or []
        if errors:
            raise ImportFailed(f"the service refused a batch: {errors[0].get('message')}")
        track: dict[str, Any] = answer["data"]["track"]
        return track
    raise ImportFailed(
        f"the service at {client.base_url} did not take a batch after {ATTEMPTS} tries"
    )
