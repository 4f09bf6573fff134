"""A real OpenSSH server on a loopback port, configured by examples/sshd_callgate.conf.

``sshd`` starts ``/usr/sbin/sshd -D -e`` with a throwaway host key and a
config made of a test header (port, host key, no PAM) followed by the
example drop-in, changed only where this machine differs: the tests run as
root, so its ``Match User callgate`` becomes ``Match User root``; the forced
command runs this worktree's desk with a settings file of the test's (the
demo database's URL, mode 0600); the authorized keys are a throwaway
client key's. Every other line of the example applies as shipped.

``agent_socket`` is a client ssh-agent (so ``ssh -A`` really asks for one).
``Terminal`` is the agent's terminal: ``ssh`` in a pseudo-terminal, its
output fed to a terminal emulator (pyte), keys written as a keyboard sends them.
"""

from __future__ import annotations

import fcntl
import os
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pyte
import pytest
from sqlalchemy.orm import Session, sessionmaker

from db.demo import load_demo

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "sshd_callgate.conf"
SSHD = Path("/usr/sbin/sshd")
SSH = shutil.which("ssh")
# Debian's openssh-server makes it at boot (systemd's RuntimeDirectory); sshd
# refuses to start without it.
PRIVSEP_DIR = Path("/run/sshd")
MISSING = "OpenSSH not found: install openssh-server and openssh-client"
# The lines of the example the test header changes, and what they become.
EXAMPLE_USER = "Match User callgate"
EXAMPLE_FORCED = "ForceCommand /opt/callgate/bin/callgate --settings /etc/callgate/settings.toml"
EXAMPLE_KEYS = "AuthorizedKeysFile /etc/ssh/callgate_authorized_keys"


def free_port() -> int:
    """A loopback port nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def keygen(path: Path) -> Path:
    """A new ed25519 key pair without a passphrase at ``path`` (and ``.pub``)."""
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "test", "-f", str(path)], check=True
    )
    return path


def sshd_config(tmp: Path, port: int, host_key: Path, settings: Path, keys: Path) -> str:
    """The test header followed by the example, changed only as the module docstring says."""
    example = EXAMPLE.read_text()
    for line in (EXAMPLE_USER, EXAMPLE_FORCED, EXAMPLE_KEYS):
        assert example.count(line) == 1, f"{EXAMPLE.name} no longer has {line!r}"
    forced = f"ForceCommand {sys.executable} -m tui.cli --settings {settings}"
    example = (
        example.replace(EXAMPLE_USER, "Match User root")
        .replace(EXAMPLE_FORCED, f"{forced}\n    SetEnv PYTHONPATH={REPO}")
        .replace(EXAMPLE_KEYS, f"AuthorizedKeysFile {keys}")
    )
    header = f"""\
Port {port}
ListenAddress 127.0.0.1
HostKey {host_key}
PidFile {tmp / "sshd.pid"}
# Tests run as root, from files under /tmp (world-writable: StrictModes refuses it).
UsePAM no
StrictModes no
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
# As Debian's sshd_config: without the forced command sftp would be served.
Subsystem sftp internal-sftp
# Broader than Debian's `AcceptEnv LANG LC_*`: the example's own list must win.
AcceptEnv LANG LC_* CALLGATE_* TEXTUAL_*
LogLevel VERBOSE
"""
    return header + example


@dataclass
class Sshd:
    """A running sshd and how a client reaches it."""

    port: int
    config: Path
    client_key: Path
    known_hosts: Path
    log: Path
    settings: Path

    def options(self) -> list[str]:
        """The client options every connection here uses: this key, this host key only."""
        return [
            "-F",
            os.devnull,
            "-i",
            str(self.client_key),
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            f"UserKnownHostsFile={self.known_hosts}",
            "-o",
            "StrictHostKeyChecking=yes",
            "-o",
            "BatchMode=yes",
            "-o",
            "ConnectTimeout=10",
        ]

    def ssh(self, *args: str) -> list[str]:
        """An ``ssh`` command line to this server as root, ``args`` before the host."""
        assert SSH is not None
        return [SSH, "-p", str(self.port), *self.options(), *args, "root@127.0.0.1"]

    def effective(self, user: str = "root") -> dict[str, str]:
        """What sshd applies to ``user``'s connection (``sshd -T -C``), lower-case keys."""
        spec = f"user={user},host=client.example,addr=127.0.0.1"
        shown = subprocess.run(
            [str(SSHD), "-T", "-f", str(self.config), "-C", spec],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        return dict(line.partition(" ")[::2] for line in shown.splitlines())


def client_env() -> dict[str, str]:
    """The client's environment: nothing of callgate's, so all it gets is the server's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CALLGATE_", "SSH_"))}
    env.update(TERM="xterm-256color", LANG="C.UTF-8")
    return env


@pytest.fixture
def sshd(tmp_path: Path, db_url: str, factory: sessionmaker[Session]) -> Iterator[Sshd]:
    """sshd on a free loopback port, its desk on a demo database; stopped after the test."""
    if SSH is None or not SSHD.exists():
        pytest.skip(MISSING)
    if os.geteuid() != 0:
        pytest.skip("sshd and its forced user need root here (the tests log in as root)")
    PRIVSEP_DIR.mkdir(mode=0o755, exist_ok=True)
    load_demo(factory, date.today())
    settings = tmp_path / "settings.toml"
    settings.write_text(f'database_url = "{db_url}"\n')
    settings.chmod(0o600)
    host_key = keygen(tmp_path / "host_key")
    client_key = keygen(tmp_path / "client_key")
    keys = tmp_path / "authorized_keys"
    keys.write_text((tmp_path / "client_key.pub").read_text())
    port = free_port()
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text(f"[127.0.0.1]:{port} {(tmp_path / 'host_key.pub').read_text()}")
    config = tmp_path / "sshd_config"
    config.write_text(sshd_config(tmp_path, port, host_key, settings, keys))
    log = tmp_path / "sshd.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(SSHD), "-D", "-e", "-f", str(config)], stdout=out, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 20
        while b"Server listening" not in log.read_bytes():
            assert process.poll() is None, f"sshd exited: {log.read_text()}"
            assert time.monotonic() < deadline, f"sshd never listened: {log.read_text()}"
            time.sleep(0.02)
        yield Sshd(port, config, client_key, known_hosts, log, settings)
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def agent_socket(tmp_path: Path) -> Iterator[Path]:
    """An ssh-agent of the client's, so that ``ssh -A`` really asks to forward it."""
    socket_path = tmp_path / "agent.sock"
    agent = subprocess.Popen(["ssh-agent", "-D", "-a", str(socket_path)], stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while not socket_path.exists():
            assert agent.poll() is None and time.monotonic() < deadline, "ssh-agent did not start"
            time.sleep(0.02)
        yield socket_path
    finally:
        agent.terminate()
        agent.wait(timeout=10)


class Terminal:
    """``ssh`` in a pseudo-terminal of ``columns`` x ``lines``, read through pyte."""

    def __init__(
        self,
        command: list[str],
        env: dict[str, str] | None = None,
        columns: int = 100,
        lines: int = 30,
    ) -> None:
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", lines, columns, 0, 0))
        self.process = subprocess.Popen(
            command,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env or client_env(),
            start_new_session=True,
        )
        os.close(slave)
        self.master = master
        self.screen = pyte.Screen(columns, lines)
        self.stream = pyte.ByteStream(self.screen)
        self.eof = False

    def _read(self, timeout: float) -> None:
        if self.eof:
            time.sleep(timeout)
            return
        ready, _, _ = select.select([self.master], [], [], timeout)
        if ready:
            try:
                data = os.read(self.master, 65536)
            except OSError:  # EIO: ssh exited and closed its side
                data = b""
            if data:
                self.stream.feed(data)
            else:
                self.eof = True

    def text(self) -> str:
        """The screen as the agent sees it now."""
        return "\n".join(line.rstrip() for line in self.screen.display)

    def until(self, condition: Callable[[], bool], what: str, seconds: float = 20) -> None:
        """Read the terminal until ``condition()`` holds; fail naming ``what`` with the screen."""
        deadline = time.monotonic() + seconds
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; screen:\n{self.text()}")
            self._read(0.05)

    def shows(self, *phrases: str) -> None:
        """Wait until every phrase is on the screen."""
        self.until(lambda: all(p in self.text() for p in phrases), f"{phrases!r} on screen")

    def write(self, keys: str) -> None:
        """Send what the keyboard sends for ``keys`` (Tab is \\t, Enter \\r)."""
        os.write(self.master, keys.encode())

    def fill(self, value: str, drawn: bool = True) -> None:
        """Type ``value`` into the focused (empty) input; with ``drawn``, wait until it shows."""
        self.write(value)
        if drawn and value:
            self.shows(value[-8:])

    def next_field(self) -> None:
        """Tab, then wait for the cursor (Textual keeps it in the focused input) to move."""
        before = (self.screen.cursor.x, self.screen.cursor.y)
        self.write("\t")
        self.until(
            lambda: (self.screen.cursor.x, self.screen.cursor.y) != before, "the focus to move"
        )

    def exited(self, seconds: float = 20) -> int:
        """Wait for ssh to end, reading what it still draws; its exit code."""
        self.until(lambda: self.process.poll() is not None, "ssh to exit", seconds)
        return self.process.returncode

    def close(self) -> None:
        """Hang up: the window closes; ssh is stopped if it still runs."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGHUP)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        os.close(self.master)
