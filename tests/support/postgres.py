"""A throwaway PostgreSQL cluster for the tests (or the one TEST_POSTGRES_URL names)."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


def _bindir() -> Path | None:
    on_path = shutil.which("pg_ctl")
    if on_path:
        return Path(on_path).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), reverse=True)
    return Path(candidates[0]).parent if candidates else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_postgres(command: list[str]) -> None:
    """pg_ctl refuses to run as root: run as the postgres user when we are root."""
    if os.geteuid() == 0:
        command = ["su", "postgres", "-c", " ".join(f"'{part}'" for part in command)]
    subprocess.run(command, check=True, capture_output=True, text=True)


class Cluster:
    """Start a cluster in a temporary directory; `url` is a server URL without a database."""

    def __init__(self) -> None:
        self.bindir = _bindir()
        self.dir: Path | None = None
        self.url: str | None = None

    def unavailable_reason(self) -> str | None:
        if self.bindir is None:
            return "PostgreSQL server binaries (pg_ctl) not found: apt-get install postgresql"
        if os.geteuid() == 0:
            try:
                subprocess.run(["id", "postgres"], check=True, capture_output=True)
            except subprocess.CalledProcessError:
                return "running as root without a 'postgres' user to run the server"
        return None

    def start(self) -> str:
        self.dir = Path(tempfile.mkdtemp(prefix="incidents-pg-"))
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        data = self.dir / "data"
        port = _free_port()
        _as_postgres([str(self.bindir / "initdb"), "-D", str(data), "--auth=trust", "-U", "postgres", "-E", "UTF8"])
        _as_postgres(
            [
                str(self.bindir / "pg_ctl"),
                "-D",
                str(data),
                "-o",
                f"-p {port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off",
                "-w",
                "-l",
                str(self.dir / "log"),
                "start",
            ]
        )
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{port}"
        return self.url

    def stop(self) -> None:
        if self.dir is not None:
            with contextlib.suppress(subprocess.CalledProcessError):
                _as_postgres([str(self.bindir / "pg_ctl"), "-D", str(self.dir / "data"), "-m", "immediate", "stop"])
            shutil.rmtree(self.dir, ignore_errors=True)
