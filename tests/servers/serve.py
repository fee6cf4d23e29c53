"""Run `planbot serve` (or `planbot worker`) as a real subprocess in its own process group, configured only
by its environment.

Used by the multi-worker, kill -9, load and secrets tests and by `bench/`: the app is started the way an
operator starts it, so what is proved is the shipped command, not an in-process stand-in. `planbot_split`
starts the split layout: one `serve --web-only` and N `worker` processes on one database.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.servers.chroma import free_port

#: Variables of the parent environment a child needs to run at all (nothing planbot reads).
PASS_THROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SSL_CERT_FILE", "PLANBOT_MODEL_CACHE")


def planbot_executable() -> str:
    """The `planbot` console script of this interpreter's environment."""
    beside = Path(sys.executable).with_name("planbot")
    found = str(beside) if beside.exists() else shutil.which("planbot")
    if found is None:
        raise RuntimeError("the planbot console script is not installed (./run setup dev)")
    return found


def seed_data_dir(source: Path | None, target: Path) -> Path:
    """A data dir for a server: a copy of `source`'s built Chroma index and trained message-kind model (so
    nothing is rebuilt), or empty. (Under pytest the model is shared through PLANBOT_MODEL_CACHE instead, see
    tests/conftest.py; bench runs outside pytest copy it.)"""
    target.mkdir(parents=True, exist_ok=True)
    for built in ("chroma", "models"):
        if source is not None and (source / built).is_dir() and not (target / built).exists():
            shutil.copytree(source / built, target / built)
    return target


def child_env(settings_env: Mapping[str, str]) -> dict[str, str]:
    """The child's whole environment: a few OS variables plus exactly the given settings."""
    env = {name: os.environ[name] for name in PASS_THROUGH if name in os.environ}
    env["PYTHONUNBUFFERED"] = "1"
    env.update(settings_env)
    return env


#: What `planbot worker` logs once it answers events (its readiness signal: it has no HTTP).
WORKER_READY = "answering"


@dataclass
class ServeProcess:
    """One `planbot serve` run: start, wait healthy, kill -9, terminate, restart on the same port.

    `web_only` adds `--web-only`; `worker=True` runs `planbot worker` instead (no port, no /healthz or /readyz).
    """

    env: dict[str, str]
    workers: int = 1
    port: int = field(default_factory=free_port)
    log_path: Path | None = None
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0
    web_only: bool = False
    worker: bool = False
    log_offset: int = 0

    @property
    def url(self) -> str:
        """Base URL of the server."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Launch the command (stdout and stderr appended to `log_path`, or discarded)."""
        command = [planbot_executable(), "serve", "--host", "127.0.0.1", "--port", str(self.port),
                   "--workers", str(self.workers), *(["--web-only"] if self.web_only else [])]
        if self.worker:
            command = [planbot_executable(), "worker"]
        self.log_offset = len(self.log_text())
        out = self.log_path.open("ab") if self.log_path else subprocess.DEVNULL
        try:
            self.process = subprocess.Popen(command, env=child_env(self.env), stdout=out,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        finally:
            if self.log_path and not isinstance(out, int):
                out.close()
        self.starts += 1

    def wait_healthy(self, timeout_s: float = 90.0) -> float:
        """Seconds until `/readyz` answered 200 (a worker: until it logs that it answers); raises if the
        process exits or the time runs out."""
        if self.worker:
            return self.wait_logged(WORKER_READY, timeout_s)
        return self.wait_status("/readyz", timeout_s, before_readyz="/healthz")

    def wait_alive(self, timeout_s: float = 90.0) -> float:
        """Seconds until `/healthz` answered 200: the process serves HTTP (the core may still be loading)."""
        return self.wait_status("/healthz", timeout_s)

    def wait_status(self, path: str, timeout_s: float, before_readyz: str | None = None) -> float:
        """Seconds until `path` answered 200; raises if the process exits or the time runs out.
        `before_readyz`: the path to wait on instead when `path` is 404 (code from before /readyz, in bench/)."""
        assert self.process is not None
        started = time.monotonic()
        deadline = started + timeout_s
        while True:
            try:
                status = httpx.get(f"{self.url}{path}", timeout=2).status_code
                if status == 200:
                    return time.monotonic() - started
                if status == 404 and before_readyz is not None:
                    path = before_readyz
            except httpx.TransportError:
                pass
            if self.process.poll() is not None:
                raise RuntimeError(f"planbot serve exited with {self.process.returncode}:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"planbot serve: {path} did not answer 200 in time:\n{self.log_tail()}")
            time.sleep(0.1)

    def wait_logged(self, text: str, timeout_s: float = 90.0) -> float:
        """Seconds until the log contains `text` (this start's part of it); raises if the process exits."""
        assert self.process is not None and self.log_path is not None, "needs a log_path"
        started = time.monotonic()
        while text not in self.log_text()[self.log_offset:]:
            if self.process.poll() is not None:
                raise RuntimeError(f"planbot exited with {self.process.returncode}:\n{self.log_tail()}")
            if time.monotonic() - started > timeout_s:
                raise RuntimeError(f"planbot did not log {text!r}:\n{self.log_tail()}")
            time.sleep(0.1)
        return time.monotonic() - started

    def log_text(self) -> str:
        """Everything the process wrote so far."""
        if self.log_path is None or not self.log_path.exists():
            return ""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def log_tail(self, lines: int = 40) -> str:
        """The last lines of the log (for failure messages)."""
        return "\n".join(self.log_text().splitlines()[-lines:])

    def pids(self) -> list[int]:
        """The server's process and its children (uvicorn workers)."""
        if self.process is None:
            return []
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        found = [self.process.pid]
        if children.exists():
            found += [int(p) for p in children.read_text().split()]
        return found

    def kill9(self) -> None:
        """SIGKILL the whole process group (the supervisor and every worker) at once, and reap it."""
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self._wait_group_gone(self.process.pid)

    def terminate(self, timeout_s: float = 20.0) -> int | None:
        """SIGTERM the group (graceful shutdown); SIGKILL if it lingers. The exit code."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.kill9()
        self._wait_group_gone(self.process.pid)
        return self.process.returncode

    def restart(self, timeout_s: float = 90.0) -> float:
        """Start again on the same port, same environment; seconds to healthy."""
        self.start()
        return self.wait_healthy(timeout_s)

    @staticmethod
    def _wait_group_gone(pgid: int, timeout_s: float = 10.0) -> None:
        # Workers of a killed supervisor are reparented; wait until none of the group runs (zombies are done).
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not _group_running(pgid):
                return
            time.sleep(0.05)
        with suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)


def _group_running(pgid: int) -> bool:
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


@contextmanager
def planbot_serve(env: Mapping[str, str], workers: int = 1, log_path: Path | None = None,
                  timeout_s: float = 90.0) -> Iterator[ServeProcess]:
    """Start `planbot serve` with exactly `env` as settings; yield once healthy; stop it afterwards."""
    server = ServeProcess(dict(env), workers=workers, log_path=log_path)
    server.start()
    try:
        server.wait_healthy(timeout_s)
        yield server
    finally:
        server.terminate()


@dataclass
class SplitLayout:
    """`planbot serve --web-only` plus `planbot worker` processes on one database."""

    web: ServeProcess
    workers: list[ServeProcess]

    @property
    def url(self) -> str:
        """Base URL of the web process."""
        return self.web.url

    @property
    def processes(self) -> list[ServeProcess]:
        """The web process first, then the workers."""
        return [self.web, *self.workers]

    def start(self, timeout_s: float = 90.0) -> None:
        """Start every process; return once the web answers /readyz and every worker answers events."""
        for process in self.processes:
            process.start()
        for process in self.processes:
            process.wait_healthy(timeout_s)

    def kill9(self) -> None:
        """SIGKILL every process of the layout."""
        for process in self.processes:
            process.kill9()

    def terminate(self) -> None:
        """SIGTERM every process (graceful), SIGKILL what lingers."""
        for process in self.processes:
            process.terminate()

    def log_text(self) -> str:
        """The logs of every process, one after another."""
        return "\n".join(process.log_text() for process in self.processes)


def split_layout(env: Mapping[str, str], workers: int, log_dir: Path, web_processes: int = 1) -> SplitLayout:
    """The processes of a split layout (not started); logs `web.log`, `worker-1.log`, … in `log_dir`."""
    web = ServeProcess(dict(env), workers=web_processes, log_path=log_dir / "web.log", web_only=True)
    return SplitLayout(web, [ServeProcess(dict(env), log_path=log_dir / f"worker-{n}.log", worker=True)
                             for n in range(1, workers + 1)])


@contextmanager
def planbot_split(env: Mapping[str, str], workers: int, log_dir: Path,
                  timeout_s: float = 90.0) -> Iterator[SplitLayout]:
    """Start `serve --web-only` and `workers` × `worker`; yield once all are up; stop them afterwards."""
    layout = split_layout(env, workers, log_dir)
    try:
        layout.start(timeout_s)
        yield layout
    finally:
        layout.terminate()


class KillAfterAcks:
    """kill -9 a server (`kill()`) in a thread once `acks` posts got a 200: pass `on_result` to `post_all`."""

    def __init__(self, acks: int, kill: Callable[[], None], timeout_s: float = 120.0) -> None:
        self._acked = threading.Semaphore(0)

        def wait_then_kill() -> None:
            for _ in range(acks):
                self._acked.acquire(timeout=timeout_s)
            kill()

        self._thread = threading.Thread(target=wait_then_kill, daemon=True)
        self._thread.start()

    def on_result(self, result: object) -> None:
        """Count a post's result (a `bench.load.PostResult`)."""
        if getattr(result, "status", None) == 200:
            self._acked.release()

    def join(self, timeout_s: float = 60.0) -> None:
        """Wait until the kill happened."""
        self._thread.join(timeout=timeout_s)
