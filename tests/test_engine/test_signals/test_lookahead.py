from __future__ import annotations

import numpy as np
import pytest

from engine.config import SignalsConfig
from engine.data.panel import MarketPanel
from engine.signals import SignalFn
from engine.signals.base import Dropped, SignalOutput, lag, zscore
from engine.signals.lookahead import check_lookahead, sample_rows, signal_pipeline

CFG = SignalsConfig()


def leaky_tomorrow(panel: MarketPanel, cfg: SignalsConfig) -> SignalOutput | Dropped:
    """Tomorrow's return: perfectly predictive and illegal (uses close[t+1])."""
    close = panel.close
    fwd = np.full(close.shape, np.nan)
    fwd[:-1] = close[1:] / close[:-1] - 1.0
    return SignalOutput("LEAK", zscore(fwd))


def leaky_full_sample_demean(panel: MarketPanel, cfg: SignalsConfig) -> SignalOutput | Dropped:
    """A subtler leak: de-meaning by the whole-sample average close."""
    close = panel.close
    return SignalOutput("DEMEAN", zscore(close / np.nanmean(close, axis=0) - 1.0))


def honest_momentum(panel: MarketPanel, cfg: SignalsConfig) -> SignalOutput | Dropped:
    return SignalOutput("HONEST", zscore(panel.close / lag(panel.close, 10) - 1.0))


def test_real_signals_and_ensemble_have_no_lookahead(small_panel: MarketPanel) -> None:
    rows = sample_rows(small_panel.T, 6, seed=99, min_row=30)
    report = check_lookahead(signal_pipeline(CFG), small_panel, rows)
    assert report.ok, report.summary()
    assert {"signal:OFI", "signal:TSX", "ensemble:weights", "ensemble:combined"} <= set(
        report.components
    )
    assert len(report.checked_rows) == 6


@pytest.mark.parametrize("leak", [leaky_tomorrow, leaky_full_sample_demean])
def test_leaky_toy_signals_are_caught(small_panel: MarketPanel, leak: SignalFn) -> None:
    panel = small_panel.truncate(300)
    extra: dict[str, SignalFn] = {"LEAK": leak, "HONEST": honest_momentum}
    report = check_lookahead(
        signal_pipeline(CFG.model_copy(update={"enabled": ("TSX",)}), extra_signals=extra),
        panel,
        sample_rows(panel.T, 4, seed=1, min_row=150),
    )
    assert not report.ok
    leaky = report.leaky_components
    assert "signal:LEAK" in leaky
    assert "signal:HONEST" not in leaky and "signal:TSX" not in leaky
    # the leak contaminates the ensemble that uses it, and the report says so
    assert "ensemble:combined" in leaky
    diff = next(d for d in report.differences if d.component == "signal:LEAK")
    assert diff.max_abs_diff > 0 and diff.row <= diff.truncated_at
    assert "signal:LEAK" in report.summary()


def test_extra_callback_components_are_checked(small_panel: MarketPanel) -> None:
    panel = small_panel.truncate(200)

    def weights_peeking(p: MarketPanel) -> dict[str, np.ndarray]:
        w = np.full((p.T, 1), float(p.T))  # depends on the length of history: leaks
        return {"portfolio:weights": w}

    report = check_lookahead(
        signal_pipeline(CFG, extra=weights_peeking), panel, sample_rows(panel.T, 2, seed=3)
    )
    assert report.leaky_components == ("portfolio:weights",)


def test_first_rows_can_be_cut_without_false_alarms(small_panel: MarketPanel) -> None:
    # rows before any earnings announcement: ERN exists (all NaN) both with and without history
    report = check_lookahead(signal_pipeline(CFG), small_panel.truncate(80), [0, 1, 2, 5])
    assert report.ok, report.summary()


def test_sample_rows_are_deterministic_and_in_range() -> None:
    rows = sample_rows(100, 10, seed=5, min_row=20)
    assert rows == sample_rows(100, 10, seed=5, min_row=20)
    assert len(rows) == 10 and min(rows) >= 20 and max(rows) <= 98
    assert sample_rows(3, 5, seed=0, min_row=5) == ()
