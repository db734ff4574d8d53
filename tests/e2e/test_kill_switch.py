"""A loss injected into a running session trips HALT_AND_FLATTEN: the rollback path flattens the
book at the broker, the latch is persisted, and the next session refuses to start (exit 5)."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest

from engine.config import AppConfig
from engine.planes.session import EXCHANGE_FILE, LATCH_FILE, run_paper_session
from tests.e2e.conftest import small_params

pytestmark = pytest.mark.e2e


def test_loss_trips_flatten_and_latches(cfg: AppConfig, tmp_path: Path) -> None:
    out = tmp_path / "out"
    params = small_params(loss_injection=0.01)
    result = run_paper_session(cfg, out_dir=out, speed=2000.0, duration_hours=0.5, params=params)
    assert result.status == "kill_switch" and result.exit_code == 5
    assert result.halt_action == "HALT_AND_FLATTEN"
    halts = [e for e in result.kill_switch_events if e.level == "HALT"]
    assert halts and halts[0].kind in ("pnl", "dd")
    assert result.rollback_flat is True
    exchange = pickle.loads((out / "session" / EXCHANGE_FILE).read_bytes())
    assert all(p.quantity == 0 for p in exchange.positions())
    assert not exchange.open_orders()
    latch = json.loads((Path(cfg.paths.state) / LATCH_FILE).read_text())
    assert latch["halted"] is True
    assert result.samples[-1].kill_switch_state == "HALTED"

    again = run_paper_session(cfg, out_dir=tmp_path / "again", speed=2000.0, params=params)
    assert again.status == "refused" and again.exit_code == 5
    assert "latch" in again.message and not again.orders


def test_psr_on_session_bars_halts_new_intents_only(tmp_path: Path) -> None:
    from tests.e2e.conftest import small_config

    cfg = small_config(tmp_path, **{"kill_switch.psr_min_obs": 10})
    params = small_params(loss_injection=0.0004, psr_basis="session_bars")
    result = run_paper_session(cfg, out_dir=tmp_path / "out", speed=2000.0,
                               duration_hours=0.5, params=params)  # fmt: skip
    assert result.status == "kill_switch", result.message
    assert result.halt_action == "HALT_AND_INVESTIGATE"
    assert result.rollback_flat is None  # investigate: no flatten
    assert any(e.kind == "psr" and e.level == "HALT" for e in result.kill_switch_events)
    halted = result.halted_wall_at
    assert halted is not None
    sent_after = [o for o in result.orders if o.order_id and o.submitted_at and o.submitted_at > halted
                  and o.risk_rejected is None]  # fmt: skip
    assert not sent_after, "an order reached the broker after the halt"
    assert result.trades > 0
