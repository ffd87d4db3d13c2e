"""Fixtures: a real candor-server on loopback, and clients of it.

The server binary comes from $CANDOR_SERVER_BIN (CTest passes the built
target). Tests that need it skip, with the reason, when it is unset.
Extra server flags may be given in $CANDOR_SERVER_ARGS (split like a shell).
"""

from __future__ import annotations

import os
import shlex
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence

import pytest

try:
    import candor
    import candor.v1.candor_pb2  # noqa: F401  (the generated stubs)
except ImportError as err:  # pragma: no cover
    raise pytest.UsageError(
        f"the installed candor package is needed ({err}); run scripts/python/setup-venv.sh "
        "and use .venv/bin/python -m pytest"
    )

SERVER_ENV = "CANDOR_SERVER_BIN"
STARTUP_TIMEOUT_S = 60.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerProcess:
    """One candor-server process on 127.0.0.1 with its own data directory.

    ``extra_args`` are added to its flags; ``client_kwargs`` are what a
    candor.Client needs to reach it (TLS, a token), used to see it ready.
    ``restart()`` stops it (SIGTERM) and starts it again on the same port
    and data directory.
    """

    def __init__(
        self,
        binary: str,
        data_dir: Path,
        log_dir: Path,
        extra_args: Sequence[str] = (),
        client_kwargs: Optional[Dict[str, Any]] = None,
    ) -> None:
        self.binary = binary
        self.data_dir = data_dir
        self.log_dir = log_dir
        self.extra_args = list(extra_args)
        self.client_kwargs = dict(client_kwargs or {})
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.proc: Optional[subprocess.Popen] = None
        self._starts = 0

    def args(self) -> List[str]:
        return [
            self.binary,
            f"--listen={self.address}",
            f"--data_dir={self.data_dir}",
            "--metrics_listen=",  # empty: no metrics endpoint, no second port
            *self.extra_args,
            *shlex.split(os.environ.get("CANDOR_SERVER_ARGS", "")),
        ]

    @property
    def log_path(self) -> Path:
        return self.log_dir / f"server-{self._starts}.log"

    def start(self) -> None:
        self._starts += 1
        log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(self.args(), stdout=log, stderr=subprocess.STDOUT)
        log.close()
        self._wait_ready()

    def _wait_ready(self) -> None:
        # Ready = it answers an RPC (ListGalleries), not merely the socket.
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        with candor.Client(self.address, timeout=2.0, **self.client_kwargs) as c:
            while True:
                assert self.proc is not None
                if self.proc.poll() is not None:
                    raise RuntimeError(
                        f"candor-server exited with {self.proc.returncode} at start:\n"
                        + self.log_tail()
                    )
                try:
                    c.list_galleries()
                    return
                except candor.CandorError:
                    if time.monotonic() > deadline:
                        self.stop()
                        raise RuntimeError(
                            f"candor-server not ready after {STARTUP_TIMEOUT_S} s:\n" + self.log_tail()
                        )
                    time.sleep(0.1)

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def skip_module_without_server() -> None:
    """Skips the calling test module, with the reason, when no server is given."""
    if not os.environ.get(SERVER_ENV):
        pytest.skip(
            f"{SERVER_ENV} is not set: build candor-server and point {SERVER_ENV} at it",
            allow_module_level=True,
        )


def server_binary() -> str:
    binary = os.environ.get(SERVER_ENV, "")
    if not binary:
        pytest.skip(f"{SERVER_ENV} is not set: build candor-server and point {SERVER_ENV} at it")
    if not os.access(binary, os.X_OK):
        pytest.fail(f"{SERVER_ENV}={binary} is not an executable file")
    return binary


def start_server(
    tmp: Path, extra_args: Sequence[str] = (), client_kwargs: Optional[Dict[str, Any]] = None
) -> ServerProcess:
    """Starts a server with its data under ``tmp`` (which must exist)."""
    srv = ServerProcess(server_binary(), tmp / "data", tmp, extra_args, client_kwargs)
    srv.data_dir.mkdir()
    srv.start()
    return srv



@pytest.fixture(scope="session")
def server() -> Iterator[ServerProcess]:
    """A server shared by the tests that do not stop it."""
    with tempfile.TemporaryDirectory(prefix="candor-pytest-") as tmp:
        srv = start_server(Path(tmp))
        try:
            yield srv
        finally:
            srv.stop()


@pytest.fixture()
def own_server(tmp_path: Path) -> Iterator[ServerProcess]:
    """A server of the test's own, which it may stop and restart."""
    srv = start_server(tmp_path)
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture()
def client(server: ServerProcess) -> Iterator["candor.Client"]:
    with candor.Client(server.address, timeout=30.0) as c:
        yield c


@pytest.fixture()
def gallery_name() -> str:
    """A gallery name no other test uses."""
    return "t-" + uuid.uuid4().hex[:12]
