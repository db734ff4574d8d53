"""The command surface, global options, exit codes and a fast ``--help``."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.support.cli import run_cli

SURFACE = [
    ["backtest"],
    ["validate-message"],
    ["probe-account"],
    ["paper-session"],
    ["go-live"],
    ["flatten"],
    ["cancel-all"],
    ["rollback"],
    ["gate", "run"],
    ["gate", "list"],
    ["gate", "status"],
    ["sim-gateway"],
    ["schemas", "export"],
    ["schemas", "check"],
    ["config", "show"],
    ["governance", "sign"],
    ["governance", "status"],
]


@pytest.mark.parametrize("command", SURFACE, ids=lambda c: " ".join(c))
def test_every_command_is_registered_with_help(command: list[str]) -> None:
    result = run_cli(*command, "--help")
    assert result.exit_code == 0, result.stderr
    assert "Usage:" in result.stdout


def test_top_level_help_documents_exit_codes() -> None:
    result = run_cli("--help")
    assert result.exit_code == 0
    for code in (
        "0 success",
        "1 check",
        "2 usage",
        "3 broker",
        "4 refused",
        "5 kill",
        "70 ",
        "130",
    ):
        assert code in result.stdout


def test_version() -> None:
    result = run_cli("--version")
    assert result.exit_code == 0
    assert result.stdout.startswith("algotrade ")


def test_unknown_command_is_a_usage_error() -> None:
    assert run_cli("no-such-command").exit_code == 2


def test_help_does_not_import_heavy_dependencies() -> None:
    code = (
        "import sys\n"
        "from algotrade_cli.__main__ import main\n"
        "rc = main(['--help'])\n"
        "heavy = [m for m in ('numpy', 'pandas', 'cvxpy', 'ib_async', 'scipy', 'matplotlib')"
        " if m in sys.modules]\n"
        "print(rc, ','.join(heavy))\n"
    )
    out = (
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        .stdout.strip()
        .splitlines()[-1]
    )
    assert out == "0", f"--help imported heavy modules: {out}"


def test_module_entry_point_works() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "algotrade_cli", "--version"], capture_output=True, text=True
    )
    assert proc.returncode == 0
    assert proc.stdout.startswith("algotrade ")


def test_config_show_json_masks_account(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALGOTRADE_IB_ACCOUNT", "DU7654321")
    result = run_cli("--json", "config", "show")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["broker"]["account"] == "**********"
    assert "DU7654321" not in result.stdout
    shown = run_cli("--json", "config", "show", "--show-sensitive")
    assert json.loads(shown.stdout)["broker"]["account"] == "DU7654321"


def test_bad_config_file_is_a_usage_error_naming_the_key(tmp_path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.yaml"
    bad.write_text("portfolio:\n  box_lim: 3\n")
    result = run_cli("--config", str(bad), "config", "show")
    assert result.exit_code == 2
    assert "portfolio.box_lim" in result.stderr
    assert "3" in result.stderr
