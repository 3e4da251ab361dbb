"""The embedded MongoDB-compatible server, run as a child process.

SecantusDB speaks the MongoDB wire protocol. Running it as its own process gives it its
own core and keeps the project's licence free: we talk to it over the wire and never
import it. Data lives in ``<data_dir>/db`` and survives restarts; ``data_dir=None`` gives
a throwaway in-memory store for tests.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pymongo import MongoClient
from pymongo.errors import PyMongoError

EXECUTABLE = "secantusd-py"


class EmbeddedServerError(RuntimeError):
    """The embedded server could not start; the message says why and what to do."""


class EmbeddedServer:
    """Start, wait for and stop one ``secantusd-py`` child process."""

    def __init__(
        self,
        data_dir: Path | None,
        *,
        host: str = "127.0.0.1",
        start_timeout: float = 30.0,
        enable_test_commands: bool = False,
    ) -> None:
        self.data_dir = data_dir
        self.host = host
        self.start_timeout = start_timeout
        self.enable_test_commands = enable_test_commands
        self.port: int | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._log_path: Path | None = None

    @property
    def uri(self) -> str:
        if self.port is None:
            raise EmbeddedServerError("the embedded server is not running")
        return f"mongodb://{self.host}:{self.port}/?directConnection=true"

    @property
    def pid(self) -> int | None:
        """The server's process id while it runs (benchmarks read its memory)."""
        return self._process.pid if self._process else None

    def start(self) -> str:
        """Start the server and return its URI once it answers a ping."""
        executable = _find_executable()
        storage = ":memory:"
        log_target: Path | None = None
        if self.data_dir is not None:
            try:
                (self.data_dir / "db").mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise EmbeddedServerError(
                    f"cannot create the data directory {self.data_dir}: {error}. "
                    "Set CDP_DATA_DIR to a writable folder."
                ) from None
            storage = str(self.data_dir / "db")
            log_target = self.data_dir / "secantusd.log"
        self.port = _free_port(self.host)
        command = [executable, "--host", self.host, "--port", str(self.port)]
        command += ["--storage-path", storage, "--log-level", "WARNING"]
        if self.enable_test_commands:
            command.append("--enable-test-commands")
        self._log_path = log_target
        output = open(log_target, "ab") if log_target else subprocess.DEVNULL  # noqa: SIM115
        try:
            self._process = subprocess.Popen(
                command, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
            )
        finally:
            if log_target:
                output.close()  # type: ignore[union-attr]
        self._wait_until_ready()
        return self.uri

    def stop(self) -> None:
        """Stop the server gracefully (it flushes to disk), killing it after 15 s."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)

    def _wait_until_ready(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise EmbeddedServerError(
                    f"the embedded database server exited with code {self._process.returncode}. "
                    f"{self._log_tail()}Is another cdp already using CDP_DATA_DIR={self.data_dir}? "
                    "Stop it, choose another CDP_DATA_DIR, "
                    "or set CDP_MONGODB_URI to a MongoDB server."
                )
            if _answers_ping(self.uri):
                return
            time.sleep(0.1)
        self.stop()
        raise EmbeddedServerError(
            f"the embedded database server did not answer within {self.start_timeout:.0f} s. "
            f"{self._log_tail()}Raise CDP_EMBEDDED_START_TIMEOUT on a slow machine, "
            "or set CDP_MONGODB_URI to a MongoDB server."
        )

    def _log_tail(self) -> str:
        if self._log_path is None or not self._log_path.exists():
            return ""
        lines = self._log_path.read_text(errors="replace").splitlines()
        meaningful = [line.strip() for line in lines if line.strip(" ^~")]  # no caret rows
        return f"Its log ends with: {meaningful[-1]}\n" if meaningful else ""


@contextmanager
def database_uri(uri: str | None, data_dir: Path, start_timeout: float) -> Iterator[str]:
    """Yield ``uri``; when there is none, run the embedded server for the duration."""
    if uri:
        yield uri
        return
    server = EmbeddedServer(data_dir, start_timeout=start_timeout)
    try:
        yield server.start()
    finally:
        server.stop()


def _find_executable() -> str:
    beside_python = Path(sys.executable).with_name(EXECUTABLE)
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which(EXECUTABLE)
    if found:
        return found
    raise EmbeddedServerError(
        f"the embedded database server ({EXECUTABLE}, from the SecantusDB package) is not "
        "installed in this environment. Run `make run`, which installs it, or "
        "`pip install SecantusDB`, or set CDP_MONGODB_URI to a MongoDB server."
    )


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
