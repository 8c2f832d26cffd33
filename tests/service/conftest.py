"""Fixtures that run the REAL service: `vicx serve` in a subprocess on a free loopback port.

- ``service`` (session): one server with its own data dir and an API key; most tests share it.
- ``client``: an ``httpx.Client`` on that server with the key's ``Authorization`` header.
- ``make_service(**settings)``: a fresh server of your own (open mode, tiny limits, restarts),
  e.g. ``make_service(open_mode="true", rate_limit_per_minute="3")``; stopped at teardown.
- ``postgres_url`` (session): a real PostgreSQL started from the Debian binaries for the test
  session; skipped with the reason when they are not installed.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

VICX = Path(sys.executable).with_name("vicx")
START_TIMEOUT_SECONDS = 120.0  # the machine is shared; a cold model load can be slow


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def service_env(data_dir: Path, **settings: str) -> dict[str, str]:
    """The parent environment without any VICX_* variable, plus the data dir and ``settings``
    (names like ``open_mode`` become ``VICX_OPEN_MODE``)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VICX_")}
    env["VICX_STATE_DIR"] = str(data_dir)
    # One process per test server: the suite starts several servers on 2 cores; tests that
    # exercise the process pool ask for it.
    env["VICX_BATCH_JOBS"] = "1"
    for name, value in settings.items():
        env[name.upper() if name.upper().startswith("VICX_") else f"VICX_{name.upper()}"] = value
    return env


def run_vicx(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(VICX), *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


@dataclass
class Service:
    """A running `vicx serve`. ``api_key`` is None when created with ``key=False``."""

    data_dir: Path
    env: dict[str, str]
    port: int = field(default_factory=free_port)
    api_key: str | None = None
    process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.data_dir / "server.log"

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def create_key(self, name: str) -> str:
        """A new API key in this service's database (through `vicx keys create`)."""
        done = run_vicx(self.env, "keys", "create", name)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    def client(self, key: str | None = None, **kwargs: object) -> httpx.Client:
        """An httpx client on this server, with ``key`` (default: the service's) as bearer."""
        key = key or self.api_key
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=60, **kwargs)  # type: ignore[arg-type]

    def start(self) -> None:
        assert self.process is None, "already running"
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [str(VICX), "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.process = None
                raise RuntimeError(f"vicx serve exited during start:\n{self.log()[-4000:]}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{self.base_url}/readyz", timeout=2).status_code == 200:
                    return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(
            f"vicx serve not ready in {START_TIMEOUT_SECONDS}s:\n{self.log()[-4000:]}"
        )

    def stop(self) -> None:
        """Graceful stop (SIGTERM, as a service manager would), killing after 20 s."""
        if self.process is None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None

    def kill(self) -> None:
        """A crash: SIGKILL, no cleanup (for resume-after-crash tests)."""
        if self.process is None:
            return
        self.process.kill()
        self.process.wait(timeout=10)
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()


def _new_service(root: Path, key: bool, settings: dict[str, str]) -> Service:
    data_dir = root / "data"
    service = Service(data_dir=data_dir, env=service_env(data_dir, **settings))
    data_dir.mkdir(parents=True, exist_ok=True)
    if key:
        service.api_key = service.create_key("tests")
    service.start()
    return service


@pytest.fixture(scope="session")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """The shared server (default settings, one key). Do not change its settings; use
    ``make_service`` for that."""
    running = _new_service(tmp_path_factory.mktemp("service"), key=True, settings={})
    yield running
    running.stop()


@pytest.fixture
def client(service: Service) -> Iterator[httpx.Client]:
    with service.client() as http:
        yield http


MakeService = Callable[..., Service]


@pytest.fixture
def make_service(tmp_path: Path) -> Iterator[MakeService]:
    """``make_service(key=True, **settings)`` starts a server of your own."""
    started: list[Service] = []

    def make(key: bool = True, **settings: str) -> Service:
        running = _new_service(tmp_path / f"service{len(started)}", key=key, settings=settings)
        started.append(running)
        return running

    yield make
    for running in started:
        running.stop()


# --- PostgreSQL ---------------------------------------------------------------------------


def postgres_bin_dir() -> Path | None:
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), reverse=True)
    if candidates:
        return candidates[0].parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _as_db_user(command: list[str]) -> list[str]:
    # PostgreSQL refuses to run as root: as root, run it as the package's 'postgres' user.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A throwaway PostgreSQL server for this test session (SQLAlchemy URL, psycopg driver)."""
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        pytest.skip(
            "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb); "
            "`apt-get install -y postgresql` (done by .ci/run) enables these tests"
        )
    # Outside pytest's 0700 tmp tree so the unprivileged database user can reach it.
    root = Path(tempfile.mkdtemp(prefix="vicx-pg-"))
    data = root / "data"
    data.mkdir()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(data, "postgres")
    port = free_port()
    subprocess.run(
        _as_db_user(
            [str(bin_dir / "initdb"), "-D", str(data), "-U", "vicx", "-A", "trust", "-E", "UTF8"]
        ),
        check=True,
        capture_output=True,
    )
    # fsync off: a test database need not survive a power cut, and it is much faster.
    postgres = [str(bin_dir / "postgres"), "-D", str(data), "-p", str(port), "-h", "127.0.0.1"]
    with (root / "postgres.log").open("wb") as log:
        server = subprocess.Popen(
            _as_db_user([*postgres, "-k", str(root), "-c", "fsync=off"]),
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            ready = subprocess.run(
                [str(bin_dir / "pg_isready"), "-h", "127.0.0.1", "-p", str(port)],
                capture_output=True,
                check=False,
            )
            if ready.returncode == 0:
                break
            if server.poll() is not None or time.monotonic() > deadline:
                log = (root / "postgres.log").read_text(errors="replace")
                raise RuntimeError(f"PostgreSQL did not start:\n{log[-3000:]}")
            time.sleep(0.2)
        subprocess.run(
            [str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "vicx", "vicx"],
            check=True,
            capture_output=True,
        )
        yield f"postgresql+psycopg://vicx@127.0.0.1:{port}/vicx"
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        shutil.rmtree(root, ignore_errors=True)
