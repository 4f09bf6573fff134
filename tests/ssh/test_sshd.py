"""Agents over SSH get the desk and nothing else (examples/sshd_callgate.conf, PRODUCT §8).

A real sshd on a loopback port (tests/ssh/conftest.py) with the example's
Match block: ``ssh -tt`` with a command of the agent's own reaches the
desk's sign-in and a whole call; no terminal, sftp, and every kind of
forwarding get a refusal; the desk's database URL comes from the server's
settings file, never from the client.
"""

from __future__ import annotations

import json
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from db.models import AuditEvent, Call
from tests.ssh.conftest import Sshd, Terminal, client_env, free_port
from tests.tui.drive import known_passphrase, on_file, typed
from tui.widgets.item_form import form_fields
from verification.items import ITEM_SPECS
from verification.kinds import CallState, Item, Outcome

CALLER = "liam.oconnor@wideworld.example"


def desk_environment(settings: Path) -> dict[str, str]:
    """The environment of the desk sshd started for this test (found by its settings path)."""
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes().split(b"\0")
            if b"tui.cli" not in cmdline or str(settings).encode() not in cmdline:
                continue
            raw = (proc / "environ").read_bytes()
        except OSError:  # not a process, or it ended meanwhile
            continue
        pairs = (item.partition("=") for item in raw.decode().split("\0") if item)
        return {key: value for key, _, value in pairs}
    raise AssertionError("no desk process runs with the test's settings file")


def answer(terminal: Terminal, item: Item, stated: Mapping[str, str], then: str) -> None:
    """Type the caller's answer for ``item``, field by field, Enter; wait for ``then``."""
    fields = [field for field, _ in form_fields(item)]
    stated = typed(item, stated)
    for number, name in enumerate(fields):
        if number:
            terminal.next_field()
        terminal.fill(stated.get(name, ""), drawn=number < len(fields) - 1)
    terminal.write("\r")
    terminal.shows(then)


def test_ssh_with_a_command_of_its_own_gets_the_desk_and_a_whole_call(
    sshd: Sshd, factory: sessionmaker[Session], agent_socket: Path, tmp_path: Path
) -> None:
    passphrase = known_passphrase(factory, "agent")
    # The agent asks for a shell, to forward its ssh-agent and to name another
    # database: the desk starts instead, on the server's settings.
    env = {**client_env(), "SSH_AUTH_SOCK": str(agent_socket)}
    elsewhere = f"CALLGATE_DATABASE_URL=sqlite:///{tmp_path / 'other.db'}"
    options = ("-tt", "-A", "-o", f"SetEnv={elsewhere} CALLGATE_SETTINGS=/dev/null")
    terminal = Terminal([*sshd.ssh(*options), "bash", "-i"], env)
    try:
        terminal.shows("Passphrase")
        desk = desk_environment(sshd.settings)
        assert desk["SSH_ORIGINAL_COMMAND"] == "bash -i"  # asked for, never run
        assert "SSH_AUTH_SOCK" not in desk  # no agent forwarded
        assert "CALLGATE_DATABASE_URL" not in desk and "CALLGATE_SETTINGS" not in desk

        terminal.fill("agent")
        terminal.next_field()
        terminal.fill(passphrase, drawn=False)
        terminal.write("\r")
        terminal.shows("No call.")
        terminal.write("n")
        terminal.shows("Call #1")
        answers = on_file(factory, CALLER)
        *first, last = answers
        for item in first:
            answer(terminal, item, answers[item], f"✓ {ITEM_SPECS[item].label}")
        answer(terminal, last, answers[last], "Gate OPEN")
        terminal.write("r")
        terminal.shows("Expires:")
        terminal.write("\r")  # the one confirmation; the end of the call is offered next
        terminal.shows("End the call — outcome", "Auto-renew turned off")
        terminal.write("\r")
        terminal.shows("Call #1 closed: Auto-renew turned off")
        terminal.write("\x11")  # Ctrl+Q: the desk quits, and the session with it
        assert terminal.exited() == 0
    finally:
        terminal.close()

    with factory() as session:
        (call,) = session.scalars(select(Call))
        assert call.state is CallState.CLOSED and call.outcome is Outcome.AUTO_RENEW_OFF
        ended = session.scalars(select(AuditEvent).where(AuditEvent.type == "call.ended"))
        assert [json.loads(event.payload)["outcome"] for event in ended] == ["auto_renew_off"]


def test_without_a_terminal_a_command_or_sftp_gets_only_the_desks_refusal(
    sshd: Sshd, tmp_path: Path
) -> None:
    marker = tmp_path / "ran"
    for command in ([f"touch {marker}; echo shell-ran"], ["-T", f"bash -c 'touch {marker}'"]):
        result = run([*sshd.ssh(*command[:-1]), command[-1]])
        assert result.returncode == 2, result.stderr  # the desk's refusal
        assert "callgate: the desk needs a terminal" in result.stderr
        assert "shell-ran" not in result.stdout and not marker.exists()
    # The sftp subsystem asked for by name: the forced command runs instead and
    # refuses (exit 2; sshd drops a subsystem's stderr). The sftp client gets nothing.
    subsystem = run([*sshd.ssh("-s"), "sftp"])
    assert subsystem.returncode == 2 and subsystem.stdout == ""
    sftp_command = ["sftp", "-P", str(sshd.port), *sshd.options(), "-b", "-", "root@127.0.0.1"]
    sftp = run(sftp_command, stdin=f"ls {tmp_path}\n")
    assert sftp.returncode != 0 and "settings.toml" not in sftp.stdout


def test_every_kind_of_forwarding_is_refused(sshd: Sshd) -> None:
    with listener() as target:
        target_port = target.getsockname()[1]
        # -L (with -N: no session, nothing runs): the local end opens, the channel is refused.
        local_port = free_port()
        forward = subprocess.Popen(
            sshd.ssh("-N", "-L", f"{local_port}:127.0.0.1:{target_port}"),
            env=client_env(),
            stderr=subprocess.PIPE,
        )
        try:
            through = connect_when_open(local_port, forward)
            with through:
                assert through.recv(1) == b""  # ssh closes it: the server refused the channel
        finally:
            forward.terminate()
            _, stderr = forward.communicate(timeout=10)
        assert b"administratively prohibited" in stderr
        # -W: stdio forwarding to the same listener.
        stdio = run(sshd.ssh("-W", f"127.0.0.1:{target_port}"))
        assert stdio.returncode != 0 and "stdio forwarding failed" in stdio.stderr
        # -R: the server opens no port for the client.
        remote_port = free_port()
        remote = run(
            sshd.ssh(
                "-N",
                "-o",
                "ExitOnForwardFailure=yes",
                "-R",
                f"{remote_port}:127.0.0.1:{target_port}",
            )
        )
        assert remote.returncode != 0 and "remote port forwarding failed" in remote.stderr
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", remote_port), timeout=5).close()
        with pytest.raises(BlockingIOError):
            target.accept()  # nothing ever reached the listener


def test_the_example_leaves_the_account_a_terminal_and_nothing_else(sshd: Sshd) -> None:
    # What sshd applies to the forced user, as it reports it: the lines no
    # behaviour above can show (X11, tun devices, ~/.ssh/rc, extra sessions).
    applied = sshd.effective("root")
    assert applied["permittty"] == "yes" and applied["disableforwarding"] == "yes"
    for name in (
        "allowtcpforwarding",
        "allowstreamlocalforwarding",
        "allowagentforwarding",
        "x11forwarding",
        "permittunnel",
        "gatewayports",
        "permituserrc",
        "passwordauthentication",
    ):
        assert applied[name] == "no", name
    assert applied["permitopen"] == "none" and applied["permitlisten"] == "none"
    assert applied["maxsessions"] == "1"
    assert "tui.cli" in applied["forcecommand"]
    # Only the Match user: another account on the host keeps the header's settings.
    assert sshd.effective("someone-else")["forcecommand"] == "none"


def run(command: list[str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    """Run a client command to its end, no terminal."""
    return subprocess.run(
        command,
        input=stdin,
        capture_output=True,
        text=True,
        env=client_env(),
        timeout=30,
        check=False,
    )


@contextmanager
def listener() -> Iterator[socket.socket]:
    """A loopback TCP listener whose accept never blocks."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        server.setblocking(False)
        yield server


def connect_when_open(port: int, client: subprocess.Popen[bytes]) -> socket.socket:
    """Connect to ``port`` once ``client`` listens there (it opens it after logging in)."""
    deadline = time.monotonic() + 20
    while True:
        assert client.poll() is None, "ssh exited before opening its local port"
        try:
            return socket.create_connection(("127.0.0.1", port), timeout=10)
        except ConnectionRefusedError:
            assert time.monotonic() < deadline, "ssh never opened its local port"
            time.sleep(0.02)
