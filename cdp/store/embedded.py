"""The embedded MongoDB-compatible server, run as a child process.

SecantusDB speaks the MongoDB wire protocol. Running it as its own process gives it its
own core and keeps the project's licence free: we talk to it over the wire and never
import it. Two engines ship with the pinned release: ``secantusd-rs`` (Rust, the
default, an order of magnitude faster) and ``secantusd-py`` (the Python reference, for
a platform where the Rust binary does not run; ``CDP_EMBEDDED_ENGINE=python``).

Data lives in ``<data_dir>/db`` and survives restarts; ``data_dir=None`` gives a
throwaway store (a temporary folder, removed on stop) for tests and benchmarks.

Only the service opens it: the Rust server runs with ``--auth`` (SCRAM-SHA-256) and a
user created on the folder's first start, whose password is kept in
``<data_dir>/credentials.json`` readable by its owner only; any other local user
reaching the port gets "requires authentication". (The server has no localhost
exception, so the first start runs it once without ``--auth`` to create the user.)

The server runs under a guardian (:mod:`cdp.store.guardian`) that stops it when the
service dies and restarts it when it dies alone. ``<data_dir>/cdp.lock`` names the
service that owns the folder; a start that finds the owner gone stops whatever it left
running and takes over, so a crash never blocks the next start.
"""

from __future__ import annotations

import enum
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from pathlib import Path
from urllib.parse import quote_plus

import psutil
from pymongo import MongoClient
from pymongo.errors import OperationFailure, PyMongoError

LOCK_FILE, PID_FILE, LOG_FILE = "cdp.lock", "secantusd.pid", "secantusd.log"
CREDENTIALS_FILE = "credentials.json"
OPLOG_RETENTION_SECONDS = 900
DATABASE_USER = "cdp"
USER_EXISTS = 51003


class Engine(enum.Enum):
    """Which of SecantusDB's two servers runs (``CDP_EMBEDDED_ENGINE``)."""

    RUST = "rust"
    PYTHON = "python"

    @property
    def executable(self) -> str:
        return "secantusd-rs" if self is Engine.RUST else "secantusd-py"


class EmbeddedServerError(RuntimeError):
    """The embedded server could not start; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class RunningDatabase:
    """Where the service's database answers, and what it is (shown by /healthz)."""

    uri: str
    engine: str  # "secantusd-rs 0.5.3-beta.165 (embedded)", or "external" for a URI


class EmbeddedServer:
    """Start, wait for and stop one embedded server (under its guardian)."""

    def __init__(
        self,
        data_dir: Path | None,
        *,
        engine: Engine = Engine.RUST,
        host: str = "127.0.0.1",
        port: int | None = None,
        start_timeout: float = 30.0,
        extra_flags: Sequence[str] = (),
    ) -> None:
        """``extra_flags`` go to the server after the service's own: benchmarks compare
        server settings with them (``bench/ingest_phases.py``); the service passes none."""
        self.data_dir = data_dir
        self.engine = engine
        self.host = host
        self.start_timeout = start_timeout
        self.port: int | None = port  # None: any free port
        self._guardian: subprocess.Popen[bytes] | None = None
        self._folder: Path | None = None  # where db/, the log and the lock live
        self._throwaway = False
        self._password: str | None = None  # set when the server runs with --auth
        self._extra_flags = list(extra_flags)

    @property
    def uri(self) -> str:
        if self.port is None:
            raise EmbeddedServerError("the embedded server is not running")
        if self._password is None:
            return f"mongodb://{self.host}:{self.port}/?directConnection=true"
        secret = quote_plus(self._password)
        return (
            f"mongodb://{DATABASE_USER}:{secret}@{self.host}:{self.port}/"
            "?directConnection=true&authSource=admin"
        )

    @property
    def pid(self) -> int | None:
        """The database server's process id while it runs (benchmarks read its memory)."""
        if self._folder is None:
            return None
        found = _read_json(self._folder / PID_FILE)
        pid = found.get("pid") if found else None
        return pid if isinstance(pid, int) else None

    @property
    def label(self) -> str:
        """The engine and its version, e.g. ``secantusd-rs 0.5.3-beta.165 (embedded)``."""
        return f"{engine_version(self.engine)} (embedded)"

    def start(self) -> str:
        """Start the server and return its URI once it answers a ping."""
        executable = find_executable(self.engine)
        self._folder = self._prepare_folder()
        storage: str = str(self._folder / "db")
        if self.engine is Engine.PYTHON and self._throwaway:
            storage = ":memory:"  # the Python server keeps a throwaway store in memory
        self.port = self.port or _free_port(self.host)
        command = [executable, "--host", self.host, "--port", str(self.port)]
        command += ["--storage-path", storage, "--log-level", "WARNING"]
        # Without it, a kill -9 right after a write loses acknowledged writes (measured:
        # 10 of 10 trials lost the last writes; j:true did not help). With it, none.
        command.append("--sync-on-commit")
        if self.engine is Engine.RUST:
            # With the default 2 GB log files, a restart after a crash took 5.5 s to
            # recover; with 100 MB, 0.2 s, at no measured cost to write throughput.
            command += ["--log-file-max", "100MB"]
            # The oplog (change streams read it) keeps every write, an erased person's
            # included; fifteen minutes rather than the default hour bounds how long.
            command += ["--oplog-retention-seconds", str(OPLOG_RETENTION_SECONDS)]
            self._password = self._credentials(command)
            command.append("--auth")
        command += self._extra_flags
        guardian = [sys.executable, "-m", "cdp.store.guardian", "--host", self.host]
        guardian += ["--port", str(self.port), "--start-timeout", str(self.start_timeout)]
        guardian += ["--pid-file", str(self._folder / PID_FILE), "--", *command]
        with (self._folder / LOG_FILE).open("ab") as log:
            self._guardian = subprocess.Popen(
                guardian,
                stdin=subprocess.PIPE,  # closed when this process ends: the guardian's cue
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a Ctrl-C at the terminal reaches only the service
            )
        _write_json(
            self._folder / LOCK_FILE,
            {"owner": _identity(os.getpid()), "guardian": _identity(self._guardian.pid)},
        )
        self._wait_until_ready()
        return self.uri

    def _credentials(self, command: list[str]) -> str:
        """The service's database password: read from the folder, or made on its first
        start by running the server once without ``--auth`` to create the user."""
        assert self._folder is not None
        path = self._folder / CREDENTIALS_FILE
        stored = _read_json(path)
        if stored is not None and isinstance(stored.get("password"), str):
            return str(stored["password"])
        password = secrets.token_urlsafe(32)
        port = _free_port(self.host)
        once = [*command[:4], str(port), *command[5:]]  # the same server on another port
        with (self._folder / LOG_FILE).open("ab") as log:
            server = subprocess.Popen(once, stdout=log, stderr=subprocess.STDOUT)
        try:
            uri = f"mongodb://{self.host}:{port}/?directConnection=true"
            deadline = time.monotonic() + self.start_timeout
            while not _answers_ping(uri):
                if server.poll() is not None or time.monotonic() > deadline:
                    raise EmbeddedServerError(
                        f"the embedded database server did not start to create its user. "
                        f"{self._log_tail()}Set CDP_MONGODB_URI to a MongoDB server instead."
                    )
                time.sleep(0.05)
            _create_user(uri, password)
        finally:
            _terminate(psutil.Process(server.pid))  # waits for it, so it is reaped
        _write_json(path, {"user": DATABASE_USER, "password": password}, private=True)
        return password

    def stop(self) -> None:
        """Stop the server gracefully (it flushes to disk), killing it after 20 s."""
        guardian, self._guardian = self._guardian, None
        if guardian is not None and guardian.poll() is None:
            assert guardian.stdin is not None
            guardian.stdin.close()  # the guardian stops the database and exits
            try:
                guardian.wait(timeout=20)
            except subprocess.TimeoutExpired:
                guardian.kill()
                guardian.wait(timeout=5)
        if self._folder is not None:
            with suppress(FileNotFoundError):
                (self._folder / LOCK_FILE).unlink()
            if self._throwaway:
                shutil.rmtree(self._folder, ignore_errors=True)
        self._folder = None

    def _prepare_folder(self) -> Path:
        if self.data_dir is None:
            self._throwaway = True
            return Path(tempfile.mkdtemp(prefix="cdp-db-"))
        try:
            (self.data_dir / "db").mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise EmbeddedServerError(
                f"cannot create the data directory {self.data_dir}: {error}. "
                "Set CDP_DATA_DIR to a writable folder."
            ) from None
        _take_over(self.data_dir)
        return self.data_dir

    def _wait_until_ready(self) -> None:
        assert self._guardian is not None
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self._guardian.poll() is not None:
                code = self._guardian.returncode
                tail = self._log_tail()
                self.stop()
                raise EmbeddedServerError(
                    f"the embedded database server exited with code {code}. "
                    f"{tail}Is another cdp already using CDP_DATA_DIR={self.data_dir}? "
                    "Stop it, choose another CDP_DATA_DIR, "
                    "or set CDP_MONGODB_URI to a MongoDB server."
                )
            if _answers_ping(self.uri):
                return
            time.sleep(0.05)
        tail = self._log_tail()
        self.stop()
        raise EmbeddedServerError(
            f"the embedded database server did not answer within {self.start_timeout:.0f} s. "
            f"{tail}Raise CDP_EMBEDDED_START_TIMEOUT on a slow machine, "
            "or set CDP_MONGODB_URI to a MongoDB server."
        )

    def _log_tail(self) -> str:
        if self._folder is None or not (self._folder / LOG_FILE).exists():
            return ""
        lines = (self._folder / LOG_FILE).read_text(errors="replace").splitlines()
        meaningful = [line.strip() for line in lines if line.strip(" ^~")]  # no caret rows
        return f"Its log ends with: {meaningful[-1]}\n" if meaningful else ""


@contextmanager
def database_uri(
    uri: str | None, data_dir: Path, start_timeout: float, engine: Engine = Engine.RUST
) -> Iterator[RunningDatabase]:
    """Yield ``uri``; when there is none, run the embedded server for the duration."""
    if uri:
        yield RunningDatabase(uri, "external")
        return
    server = EmbeddedServer(data_dir, engine=engine, start_timeout=start_timeout)
    try:
        yield RunningDatabase(server.start(), server.label)
    finally:
        server.stop()


def find_executable(engine: Engine) -> str:
    """The engine's program: beside this Python (a virtual environment), else on PATH."""
    beside_python = Path(sys.executable).with_name(engine.executable)
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which(engine.executable)
    if found:
        return found
    other = "python" if engine is Engine.RUST else "rust"
    raise EmbeddedServerError(
        f"the embedded database server ({engine.executable}, from the SecantusDB package) is "
        "not installed in this environment. Run `make run`, which installs it, set "
        f"CDP_EMBEDDED_ENGINE={other} to use the other engine, "
        "or set CDP_MONGODB_URI to a MongoDB server."
    )


@cache
def engine_version(engine: Engine) -> str:
    """``secantusd-rs 0.5.3-beta.165``: the Rust server's answer to ``--version``; the
    Python server has none, so its package's version (read from metadata, not imported)."""
    if engine is Engine.PYTHON:
        try:
            return f"{engine.executable} {metadata.version('SecantusDB')}"
        except metadata.PackageNotFoundError:
            return engine.executable
    try:
        done = subprocess.run(
            [find_executable(engine), "--version"], capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError, EmbeddedServerError):
        return engine.executable
    words = done.stdout.split()
    return " ".join(words[:2]) if done.returncode == 0 and words else engine.executable


def _take_over(data_dir: Path) -> None:
    """Clear what a service that died left in ``data_dir``; refuse if its owner lives."""
    lock = _read_json(data_dir / LOCK_FILE)
    if lock is None:
        return
    owner = _process(lock.get("owner"))
    if owner is not None:
        raise EmbeddedServerError(
            f"the data folder is in use by a running cdp (process {owner.pid}). "
            f"Is another cdp already using CDP_DATA_DIR={data_dir}? Stop it, choose another "
            "CDP_DATA_DIR, or set CDP_MONGODB_URI to a MongoDB server."
        )
    leftovers = [lock.get("guardian"), _read_json(data_dir / PID_FILE)]
    for process in [p for p in (_process(i) for i in leftovers) if p is not None]:
        print(
            f"cdp: stopping a database process ({process.pid}) left running by a cdp that "
            "ended without stopping it",
            file=sys.stderr,
        )
        _terminate(process)
    (data_dir / LOCK_FILE).unlink(missing_ok=True)


def _terminate(process: psutil.Process) -> None:
    """Stop a process gracefully (a database flushes to disk), killing it after 20 s."""
    with suppress(psutil.Error):
        process.terminate()
        try:
            process.wait(timeout=20)
        except psutil.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def _identity(pid: int) -> dict[str, float] | None:
    """A process id with its start time, so a reused id is never taken for the same process."""
    try:
        return {"pid": pid, "started": psutil.Process(pid).create_time()}
    except psutil.Error:
        return None


def _process(identity: object) -> psutil.Process | None:
    if not isinstance(identity, dict) or "pid" not in identity:
        return None
    try:
        process = psutil.Process(int(identity["pid"]))
        if abs(process.create_time() - float(identity.get("started", 0))) > 1:
            return None
        return process if process.status() != psutil.STATUS_ZOMBIE else None
    except psutil.Error:
        return None


def _read_json(path: Path) -> dict[str, object] | None:
    try:
        found = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) else None


def _write_json(path: Path, value: object, *, private: bool = False) -> None:
    temporary = path.with_suffix(".tmp")
    temporary.unlink(missing_ok=True)
    descriptor = os.open(
        temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600 if private else 0o644
    )
    with os.fdopen(descriptor, "w") as file:
        file.write(json.dumps(value))
    temporary.replace(path)


def _create_user(uri: str, password: str) -> None:
    """The service's user (root on this server), replacing one a crash left unrecorded."""
    client: MongoClient[dict[str, object]] = MongoClient(uri, serverSelectionTimeoutMS=5000)
    try:
        try:
            client.admin.command("createUser", DATABASE_USER, pwd=password, roles=["root"])
        except OperationFailure as error:
            if error.code != USER_EXISTS:
                raise
            client.admin.command("dropUser", DATABASE_USER)
            client.admin.command("createUser", DATABASE_USER, pwd=password, roles=["root"])
    finally:
        client.close()


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def _answers_ping(uri: str) -> bool:
    client: MongoClient[dict[str, object]] = MongoClient(
        uri, serverSelectionTimeoutMS=300, connectTimeoutMS=300
    )
    try:
        client.admin.command("ping")
        return True
    except PyMongoError:
        return False
    finally:
        client.close()
