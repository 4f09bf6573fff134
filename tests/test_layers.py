"""The layers point inward: tui -> db -> verification (PRODUCT.md section 2)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

# Imports every module of a package, then prints the forbidden ones loaded.
_PROBE = """
import importlib, pkgutil, sys
package = importlib.import_module({package!r})
for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
    importlib.import_module(module.name)
print(" ".join(sorted(m for m in {forbidden!r} if m in sys.modules)))
"""


def _loaded(package: str, forbidden: tuple[str, ...]) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", _PROBE.format(package=package, forbidden=forbidden)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_import_linter_contracts_hold() -> None:
    lint = Path(sys.executable).parent / "lint-imports"
    command = str(lint) if lint.exists() else shutil.which("lint-imports")
    if command is None:
        pytest.fail("lint-imports not installed: pip install -e '.[test]'")
    result = subprocess.run(
        [command, "--no-cache"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_verification_imports_neither_textual_nor_sqlalchemy() -> None:
    assert _loaded("verification", ("textual", "sqlalchemy", "alembic")) == []


def test_db_imports_no_textual() -> None:
    assert _loaded("db", ("textual",)) == []


def test_the_probe_sees_what_a_package_imports() -> None:
    # The control: without it, a probe that imported nothing would pass the two above.
    assert _loaded("db", ("sqlalchemy",)) == ["sqlalchemy"]


# What a desk start must not pay for: the database stack and the matching libraries.
_STARTUP_FORBIDDEN = (
    "sqlalchemy",
    "alembic",
    "phonenumbers",
    "email_validator",
    "usaddress",
    "scourgify",
    "pycountry",
)
_IMPORT_PROBE = """
import importlib, sys
importlib.import_module({module!r})
print(" ".join(sorted(m for m in {forbidden!r} if m in sys.modules)))
"""


def _loaded_by(module: str, forbidden: tuple[str, ...]) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", _IMPORT_PROBE.format(module=module, forbidden=forbidden)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_importing_the_app_loads_no_database_nor_matching_library() -> None:
    assert _loaded_by("tui.app", _STARTUP_FORBIDDEN) == []


def test_the_import_probe_sees_the_database_and_matching_libraries() -> None:
    # The control: the desk's service does load them, so the probe above can see them.
    loaded = _loaded_by("db.desk", _STARTUP_FORBIDDEN)
    assert {"sqlalchemy", "phonenumbers"} <= set(loaded)


_DESK_ARGS_PROBE = """
import sys
from tui.cli import build_parser, desk_args
args = desk_args({argv!r})
print(args is not None and args.command is None, "tui.commands.agents_cmd" in sys.modules)
"""


@pytest.mark.parametrize(
    ("argv", "opens_desk"),
    [([], True), (["--db", "sqlite:///x.db", "--settings", "s.toml"], True), (["demo"], False),
     (["--help"], False), (["--db", "sqlite:///x.db", "agents", "list"], False)],
)  # fmt: skip
def test_only_the_desks_own_arguments_skip_the_command_parsers(
    argv: list[str], opens_desk: bool
) -> None:
    result = subprocess.run(
        [sys.executable, "-c", _DESK_ARGS_PROBE.format(argv=argv)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    # Deciding imports no command module: only building their parsers does.
    assert result.stdout.split() == [str(opens_desk), "False"]
