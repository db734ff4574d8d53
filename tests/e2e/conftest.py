"""A small, fast paper session for the end-to-end tests: 12 symbols, 1.2 years of warm-up,
no regime model, a 30-bar session replayed as fast as the broker allows."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.config import AppConfig, load_config
from engine.planes.session import SessionParams
from engine.planes.strategy_plane import StrategyParams


def small_config(tmp: Path, **overrides: object) -> AppConfig:
    base = {
        "market.years": 1.2,
        "market.n_assets": 12,
        "regime.enabled": False,
        "paths.state": str(tmp / "state"),
        "session.metrics_port": 0,
    }
    base.update(overrides)
    return load_config(None, {}).with_overrides(base)


def small_params(**kw: object) -> SessionParams:
    strategy = StrategyParams(decision_every=5, min_trade_notional=20_000.0, max_intents=60)
    return SessionParams(strategy=strategy, settle_timeout=5.0, **kw)  # type: ignore[arg-type]


@pytest.fixture
def cfg(tmp_path: Path) -> AppConfig:
    return small_config(tmp_path)
