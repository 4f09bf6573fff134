"""A throwaway PostgreSQL cluster: the one implementation the tests and ``make bench`` share.

``tests/conftest.py`` (fixture ``pg_server``) and the load benchmark
(``benchmarks/pg_load.py``) start the server binaries found by ``pg_bindir``
(``/usr/lib/postgresql/*/bin`` or ``PATH``) in a temp dir, as the ``postgres``
user when we are root, listening on a Unix socket only, without fsync.

``Bouncer`` puts a PgBouncer in transaction pooling (the way call centers pool)
in front of any server, listening on a Unix socket in its own temp dir
(fixtures ``pg_bouncer`` and ``CALLGATE_TEST_PGBOUNCER`` in ``tests/conftest.py``).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

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


BOUNCER_PORT = 6432  # only names the socket file: the bouncer listens on no TCP port
# The capacity benchmark's server connections behind PgBouncer: a few per core
# of the server keep it busy; more only queue inside it.
BOUNCER_POOL_SIZE = 16


def pgbouncer_binary() -> Path | None:
    """Debian's ``/usr/sbin/pgbouncer`` (not on a user's PATH), or one on PATH."""
    for candidate in ("/usr/sbin/pgbouncer", shutil.which("pgbouncer")):
        if candidate and os.access(candidate, os.X_OK):
            return Path(candidate)
    return None


class Bouncer:
    """A PgBouncer in transaction pooling in front of ``server``, on a Unix socket.

    Every database name is passed through to the server (``* =``), connecting
    as the client's own role. Clients are trusted (only this machine's users
    reach the socket); a role missing from the ``auth_file`` (which names only
    the server's) is looked up on the server through ``auth_user``, so a role
    a test creates (the desk role) logs in through the bouncer too.
    ``pool_size`` server connections per database and role: fewer than
    clients, so consecutive transactions of one client land on different
    server connections, as they do in a call center. A client waits at most
    ``wait_seconds`` for one (PgBouncer's ``query_wait_timeout``, 120 s by
    default), then gets an error: that is also how long a desk waits, when
    the server is down, before it hears so.
    """

    def __init__(
        self,
        binary: Path,
        server: URL,
        *,
        pool_size: int = 5,
        wait_seconds: int = 10,
        max_clients: int = 1000,
    ) -> None:
        self.binary = binary
        self.max_clients = max_clients
        self.server = server
        self.pool_size = pool_size
        self.wait_seconds = wait_seconds
        self.admin = server.username or "postgres"
        self.owner: pwd.struct_passwd | None = None
        # PgBouncer refuses to run as root, as the server does.
        if os.geteuid() == 0:
            try:
                self.owner = pwd.getpwnam("postgres")
            except KeyError:
                raise ClusterUnavailable(
                    "running as root and there is no `postgres` user to run pgbouncer"
                ) from None
        owner = self.owner
        self.root = Path(tempfile.mkdtemp(prefix="callgate-pgbouncer-", dir="/tmp"))
        if owner is not None:
            os.chown(self.root, owner.pw_uid, owner.pw_gid)
        self.log = self.root / "pgbouncer.log"
        self.process: subprocess.Popen[bytes] | None = None

    def _server_line(self) -> str:
        host = self.server.query.get("host") or self.server.host or "/var/run/postgresql"
        if isinstance(host, tuple):
            host = host[0]
        parts = [f"host={host}", f"port={self.server.port or 5432}"]
        if self.server.password:
            # The bouncer logs in to the server for its clients with the server's password.
            parts += [f"user={self.server.username}", f"password={self.server.password}"]
        return " ".join(parts)

    def _write_config(self) -> Path:
        userlist = self.root / "userlist.txt"
        userlist.write_text(f'"{self.admin}" ""\n')
        config = self.root / "pgbouncer.ini"
        config.write_text(
            "[databases]\n"
            f"* = {self._server_line()}\n"
            "[pgbouncer]\n"
            "pool_mode = transaction\n"
            "listen_addr =\n"
            f"listen_port = {BOUNCER_PORT}\n"
            f"unix_socket_dir = {self.root}\n"
            "auth_type = trust\n"
            f"auth_user = {self.admin}\n"
            f"auth_file = {userlist}\n"
            f"admin_users = {self.admin}\n"
            f"default_pool_size = {self.pool_size}\n"
            f"max_client_conn = {self.max_clients}\n"
            f"logfile = {self.log}\n"
            f"query_wait_timeout = {self.wait_seconds}\n"
        )
        if self.owner is not None:
            for path in (userlist, config):
                os.chown(path, self.owner.pw_uid, self.owner.pw_gid)
        return config

    def start(self) -> URL:
        """Start PgBouncer; the URL of ``server``'s database through it."""
        config = self._write_config()
        # Started as the user itself (not through runuser), so stop() signals PgBouncer.
        as_owner: dict[str, Any] = {}
        if self.owner is not None:
            as_owner = {"user": self.owner.pw_uid, "group": self.owner.pw_gid, "extra_groups": []}
        self.process = subprocess.Popen(
            [str(self.binary), str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            **as_owner,
        )
        socket = self.root / f".s.PGSQL.{BOUNCER_PORT}"
        deadline = time.monotonic() + 30
        while not socket.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                log = self.log.read_text() if self.log.exists() else ""
                self.stop()
                raise ClusterError(f"pgbouncer did not start:\n{log}")
            time.sleep(0.02)
        return self.url_for(self.server.database or "postgres")

    def url_for(self, database: str, username: str | None = None) -> URL:
        """The URL of ``database`` (as ``username``, else the server's role) through PgBouncer."""
        return make_url(
            f"postgresql+psycopg://{username or self.admin}@/{database}"
            f"?host={self.root}&port={BOUNCER_PORT}"
        )

    def pooled(self, direct: URL | str) -> URL:
        """``direct``'s database and role, reached through PgBouncer instead."""
        url = make_url(direct)
        return self.url_for(url.database or "postgres", url.username).update_query_dict(
            {k: v for k, v in url.query.items() if k not in ("host", "port")}
        )

    def stop(self) -> None:
        """Stop PgBouncer and remove its files."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.root, ignore_errors=True)
