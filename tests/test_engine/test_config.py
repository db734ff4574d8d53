"""Config precedence (defaults ← file ← environment) and errors that name the bad key."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from engine.config import AppConfig, ConfigError, load_config


def test_defaults_are_the_seeds_values() -> None:
    cfg = load_config(None, {})
    assert cfg.portfolio.lambda_init == 5e-4
    assert cfg.portfolio.vol_target == 0.10
    assert cfg.portfolio.box_lim == 0.25
    assert (cfg.regime.calm.gross, cfg.regime.calm.net) == (2.5, 1.0)
    assert (cfg.regime.normal.gross, cfg.regime.normal.net) == (2.0, 0.8)
    assert (cfg.regime.storm.gross, cfg.regime.storm.net) == (1.0, 0.4)
    assert (cfg.kill_switch.pnl_halt, cfg.kill_switch.pnl_warn) == (-0.05, -0.03)
    assert (cfg.kill_switch.drawdown_halt, cfg.kill_switch.drawdown_warn) == (0.15, 0.10)
    assert (cfg.kill_switch.psr_halt, cfg.kill_switch.psr_warn) == (0.20, 0.30)
    assert cfg.gates.coverage_min == 0.80
    assert cfg.gates.fill_rate_min == 0.98
    assert cfg.broker.trading_mode == "paper"
    assert cfg.broker.readonly is True
    assert cfg.pacing.limit == 50


def test_file_overrides_defaults_and_env_overrides_file(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("broker:\n  port: 7497\n  client_id: 9\nportfolio:\n  lambda_init: 0.001\n")
    cfg = load_config(path, {"ALGOTRADE_BROKER__PORT": "4001", "ALGOTRADE_IB_HOST": "10.0.0.5"})
    assert cfg.broker.port == 4001
    assert cfg.broker.client_id == 9
    assert cfg.broker.host == "10.0.0.5"
    assert cfg.portfolio.lambda_init == 0.001


def test_unknown_key_names_its_yaml_path(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("portfolio:\n  lamda_init: 0.001\n")
    with pytest.raises(ConfigError, match=r"portfolio\.lamda_init.*unknown key"):
        load_config(path, {})


def test_wrong_type_names_value_and_expectation(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("broker:\n  port: not-a-port\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, {})
    message = str(info.value)
    assert "broker.port" in message and "'not-a-port'" in message and "integer" in message


def test_inconsistent_levels_are_rejected() -> None:
    with pytest.raises(ConfigError, match="pnl_warn"):
        load_config(None, {"ALGOTRADE_KILL_SWITCH__PNL_WARN": "-0.10"})


def test_non_mapping_file(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("- a\n- b\n")
    with pytest.raises(ConfigError, match="top level must be a mapping"):
        load_config(path, {})


def test_config_is_frozen() -> None:
    cfg = AppConfig()
    with pytest.raises(ValidationError):
        cfg.portfolio.box_lim = 0.5  # type: ignore[misc]


def test_secret_masked_in_repr_and_fingerprint_changes() -> None:
    a = load_config(None, {"ALGOTRADE_IB_ACCOUNT": "U1234567"})
    assert "U1234567" not in repr(a)
    b = load_config(None, {"ALGOTRADE_IB_ACCOUNT": "U7654321"})
    assert a.fingerprint() != b.fingerprint()
    assert a.with_overrides({"portfolio.lambda_init": 0.002}).portfolio.lambda_init == 0.002
