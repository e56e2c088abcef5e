"""A real PostgreSQL for the tests: the one `.ci/run` started, or a throwaway cluster started here."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg

ENV_URL = "NIGHTOWL_TEST_POSTGRES_URL"


@dataclass
class PostgresServer:
    admin_url: str  # libpq URL of a superuser on the maintenance database
    process_dir: str | None = None

    @contextmanager
    def throwaway_database(self) -> Iterator[str]:
        """Create an empty database, yield its SQLAlchemy-ready URL, drop it afterwards."""
        name = "nt_" + uuid.uuid4().hex[:16]
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        base, _, _ = self.admin_url.rpartition("/")
        try:
            yield f"{base}/{name}"
        finally:
            with psycopg.connect(self.admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _find_bin(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else shutil.which(name)


def _as_postgres(cmd: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


def start_postgres() -> PostgresServer | str:
    """Start a server, or return the reason why none is available."""
    if os.environ.get(ENV_URL):
        return PostgresServer(os.environ[ENV_URL])
    initdb, pg_ctl = _find_bin("initdb"), _find_bin("pg_ctl")
    if not initdb or not pg_ctl:
        return "no PostgreSQL server binaries (apt-get install postgresql, or set NIGHTOWL_TEST_POSTGRES_URL)"
    root = tempfile.mkdtemp(prefix="nightowl-pg-")
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    data, port = os.path.join(root, "data"), _free_port()
    subprocess.run(
        _as_postgres([initdb, "-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"]),
        check=True,
        capture_output=True,
    )
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c fsync=off -c full_page_writes=off"
    subprocess.run(
        _as_postgres([pg_ctl, "-D", data, "-l", os.path.join(root, "log"), "-w", "-o", options, "start"]),
        check=True,
        capture_output=True,
    )
    url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
    deadline = time.monotonic() + 20
    while True:
        try:
            psycopg.connect(url).close()
            break
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    return PostgresServer(url, process_dir=root)


def stop_postgres(server: PostgresServer) -> None:
    if server.process_dir is None:
        return
    pg_ctl = _find_bin("pg_ctl")
    assert pg_ctl is not None
    subprocess.run(
        _as_postgres([pg_ctl, "-D", os.path.join(server.process_dir, "data"), "-m", "immediate", "stop"]),
        capture_output=True,
    )
    shutil.rmtree(server.process_dir, ignore_errors=True)
