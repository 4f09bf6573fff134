"""A throwaway PostgreSQL cluster: the one implementation the tests and ``make bench`` share.

``tests/conftest.py`` (fixture ``pg_server``) and the load benchmark
(``benchmarks/pg_load.py``) start the server binaries found by ``pg_bindir``
(``/usr/lib/postgresql/*/bin`` or ``PATH``) in a temp dir, as the ``postgres``
user when we are root, listening on a Unix socket only, without fsync.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import URL, make_url


class ClusterUnavailable(RuntimeError):
    """No cluster can be started on this machine; the message says why."""


class ClusterError(RuntimeError):
    """A server command failed; the message holds its output and the server log."""


def pg_bindir() -> Path | None:
    """The newest PostgreSQL server binaries on this machine, if any."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda path: int(Path(path).parts[-3]) if Path(path).parts[-3].isdigit() else 0,
    )
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("initdb")
    return Path(on_path).parent if on_path else None


class Cluster:
    """A throwaway PostgreSQL cluster in a temp dir, reachable only by socket."""

    def __init__(self, bindir: Path, *, max_connections: int = 100) -> None:
        self.bindir = bindir
        self.max_connections = max_connections
        # initdb refuses to run as root: then the server runs as ``postgres``.
        self.run_as: list[str] = []
        owner: pwd.struct_passwd | None = None
        if os.geteuid() == 0:
            try:
                owner = pwd.getpwnam("postgres")
            except KeyError:
                raise ClusterUnavailable(
                    "running as root and there is no `postgres` user to run the server"
                ) from None
            self.run_as = ["runuser", "-u", "postgres", "--"]
        self.root = Path(tempfile.mkdtemp(prefix="callgate-pg-", dir="/tmp"))
        if owner is not None:
            os.chown(self.root, owner.pw_uid, owner.pw_gid)
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.url: URL | None = None  # once started

    def _run(self, *argv: str) -> None:
        result = subprocess.run(
            [*self.run_as, *argv], capture_output=True, text=True, check=False, timeout=120
        )
        if result.returncode != 0:
            log = self.log.read_text() if self.log.exists() else ""
            raise ClusterError(f"{' '.join(argv)} failed:\n{result.stdout}{result.stderr}{log}")

    def start(self) -> URL:
        """initdb and start the server; the URL of its ``postgres`` database."""
        self._run(
            str(self.bindir / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--no-sync",
        )
        # Durability is pointless for a throwaway cluster and costs test time.
        options = (
            f"-k {self.root} -c listen_addresses='' -c fsync=off -c full_page_writes=off"
            f" -c max_connections={self.max_connections}"
        )
        self._run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-w",
            "-o",
            options,
            "start",
        )
        self.url = make_url(f"postgresql+psycopg://postgres@/postgres?host={self.root}")
        return self.url

    def stop(self) -> None:
        """Stop the server and remove its files."""
        subprocess.run(
            [*self.run_as, str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "stop"],
            capture_output=True,
            check=False,
            timeout=60,
        )
        shutil.rmtree(self.root, ignore_errors=True)


@contextmanager
def running_cluster(max_connections: int = 100) -> Iterator[Cluster]:
    """A started cluster, stopped and removed afterwards; ``ClusterUnavailable`` if none."""
    bindir = pg_bindir()
    if bindir is None:
        raise ClusterUnavailable("PostgreSQL server binaries not found: install postgresql")
    cluster = Cluster(bindir, max_connections=max_connections)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


@contextmanager
def scratch_database(name: str, max_connections: int = 100) -> Iterator[str]:
    """The URL of an empty database ``name`` on a ``running_cluster``, gone afterwards."""
    from sqlalchemy import create_engine, text

    with running_cluster(max_connections=max_connections) as cluster:
        server = cluster.url
        assert server is not None
        admin = create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        yield server.set(database=name).render_as_string(hide_password=False)
