"""A throwaway PostgreSQL server (Debian's package) on a loopback port, for the server-mode tests."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.servers.chroma import free_port


def postgres_bin() -> Path | None:
    """The newest installed PostgreSQL's bin folder, if any."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def _as_postgres_user(command: list[str]) -> list[str]:
    # PostgreSQL refuses to run as root; CI runs as root, so drop to the package's `postgres` user.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


@contextmanager
def postgres_server(durable: bool = False) -> Iterator[str]:
    """Start a fresh cluster with trust auth on 127.0.0.1; yield a SQLAlchemy URL to database `planbot`.

    Tests run it without fsync (fast); `durable` keeps PostgreSQL's default fsync, as a benchmark of
    acknowledged-means-stored must."""
    bin_dir = postgres_bin()
    if bin_dir is None:
        raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql)")
    root = Path(tempfile.mkdtemp(prefix="planbot-pg-"))
    data = root / "data"
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    port = free_port()
    run = _as_postgres_user
    subprocess.run(run([str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
                        "--no-sync", "-E", "UTF8", "--locale", "C"]),
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c max_connections=200"
    if not durable:
        options += " -c fsync=off"
    subprocess.run(run([str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-w", "-t", "60",
                        "-l", str(root / "log"), "start"]), check=True, stdout=subprocess.DEVNULL)
    try:
        _wait_ready(bin_dir, port)
        subprocess.run(run([str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres",
                            "planbot"]), check=True)
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/planbot"
    finally:
        subprocess.run(run([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        shutil.rmtree(root, ignore_errors=True)


def _wait_ready(bin_dir: Path, port: int, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while subprocess.run([str(bin_dir / "pg_isready"), "-h", "127.0.0.1", "-p", str(port)],
                         stdout=subprocess.DEVNULL, check=False).returncode != 0:
        if time.monotonic() > deadline:
            raise RuntimeError("PostgreSQL did not start")
        time.sleep(0.2)


@contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    """A new, empty database on the running server; dropped afterwards."""
    import uuid

    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = server_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield server_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
