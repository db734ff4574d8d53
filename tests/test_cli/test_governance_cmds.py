from __future__ import annotations

import json
from pathlib import Path

from tests.support.cli import run_cli


def test_sign_then_status(tmp_path: Path) -> None:
    for role in ("risk_officer", "cto", "lead_trader"):
        result = run_cli(
            "governance", "sign", "--role", role, "--name", f"N {role}", "--dir", str(tmp_path)
        )
        assert result.exit_code == 0, result.stderr
    status = run_cli("--json", "governance", "status", "--dir", str(tmp_path))
    assert status.exit_code == 0
    data = json.loads(status.stdout)
    assert data["all_valid"] is True
    assert {s["role"] for s in data["signoffs"]} == {"risk_officer", "cto", "lead_trader"}


def test_status_fails_when_unsigned_or_stale(tmp_path: Path) -> None:
    assert run_cli("governance", "status", "--dir", str(tmp_path)).exit_code == 1
    run_cli("governance", "sign", "--role", "cto", "--name", "B", "--dir", str(tmp_path))
    cfg = tmp_path / "c.yaml"
    cfg.write_text("broker:\n  port: 4001\n")
    result = run_cli("--json", "--config", str(cfg), "governance", "status", "--dir", str(tmp_path))
    assert result.exit_code == 1
    cto = next(s for s in json.loads(result.stdout)["signoffs"] if s["role"] == "cto")
    assert cto["valid"] is False and "c.yaml" in cto["reason"]


def test_unknown_role_is_a_usage_error(tmp_path: Path) -> None:
    result = run_cli("governance", "sign", "--role", "ceo", "--name", "X", "--dir", str(tmp_path))
    assert result.exit_code == 2
    assert "unknown role 'ceo'" in result.stderr
