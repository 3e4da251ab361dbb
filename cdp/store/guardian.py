"""Keeps the embedded database alive while the service lives, and no longer.

Run by :class:`cdp.store.embedded.EmbeddedServer` as ``python -m cdp.store.guardian``,
between the service and the database server. Two jobs, each what a plain child process
cannot do for itself:

* **It dies with the service.** The service holds the write end of this process's
  standard input; when the service exits in any way, ``kill -9`` included, the pipe
  closes, and the guardian stops the database gracefully (it flushes) and exits. So a
  database never outlives its service and never blocks the next start.
* **It restarts the database.** When the database exits while the service still runs,
  it is started again on the same port and storage, after 0.5 s, then 1, 2, 4, up to
  10 s between attempts (back to 0.5 s once a run lasted a minute). The service's
  client reconnects by itself; meanwhile requests answer ``SERVICE_UNAVAILABLE``.

A database that exits before it ever listened (a data folder held by another process, a
bad flag) is not restarted: the guardian exits with its code and the service reports it.
It imports nothing of the project (only psutil, to record the database's start time),
so it starts fast.
"""

from __future__ import annotations

import argparse
import json
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import psutil

FIRST_DELAY, MAX_DELAY, STEADY_SECONDS = 0.5, 10.0, 60.0
STOP_GRACE_SECONDS = 15.0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cdp-guardian")
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--start-timeout", type=float, default=30.0)
    parser.add_argument("--pid-file", type=Path, help="where to record the database's pid")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- the database command")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the database command after --")

    parent_gone = threading.Event()
    threading.Thread(target=_watch_parent, args=(parent_gone,), daemon=True).start()
    signal.signal(signal.SIGTERM, lambda *_: parent_gone.set())  # stop as if the service left
    delay, ever_listened = FIRST_DELAY, False
    while True:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL)
        if args.pid_file is not None:
            _record(args.pid_file, process)
        started = time.monotonic()
        listening = _wait_listening(args.host, args.port, process, parent_gone, args.start_timeout)
        if not listening and not ever_listened:
            _stop(process)
            return process.returncode or 1
        ever_listened = True
        while process.poll() is None and not parent_gone.wait(0.2):
            pass
        if parent_gone.is_set():
            _stop(process)
            return 0
        if time.monotonic() - started > STEADY_SECONDS:
            delay = FIRST_DELAY
        _say(f"the database exited with code {process.returncode}; restarting in {delay:g} s")
        if parent_gone.wait(delay):
            return 0
        delay = min(delay * 2, MAX_DELAY)


def _watch_parent(gone: threading.Event) -> None:
    """Block on standard input until the service closes it (or dies)."""
    try:
        while sys.stdin.buffer.read(1):
            pass
    except OSError:
        pass
    gone.set()


def _wait_listening(
    host: str, port: int, process: subprocess.Popen[bytes], gone: threading.Event, limit: float
) -> bool:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and process.poll() is None and not gone.is_set():
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Ask the database to stop (it flushes to disk); kill it if it will not."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=STOP_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _record(path: Path, process: subprocess.Popen[bytes]) -> None:
    """The database's pid and start time, so a later start can stop exactly this process."""
    try:
        started = psutil.Process(process.pid).create_time()
    except psutil.Error:
        return
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps({"pid": process.pid, "started": started}))
    temporary.replace(path)


def _say(message: str) -> None:
    print(f"cdp guardian: {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
