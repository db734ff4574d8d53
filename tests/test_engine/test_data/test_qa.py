from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

from engine.data.panel import MarketPanel
from engine.data.qa import FreshnessMonitor, completeness_check, tradable_mask

T0 = datetime(2024, 1, 2, 15, 0, tzinfo=UTC)


def test_freshness_uses_the_passed_clock() -> None:
    monitor = FreshnessMonitor(timedelta(seconds=60), multiple=3.0, symbols=["AAA", "BBB"])
    monitor.observe("AAA", T0)
    assert monitor.stale(T0) == ("BBB",)  # never seen
    assert not monitor.is_stale("AAA", T0 + timedelta(seconds=180))  # exactly 3 intervals
    assert monitor.is_stale("AAA", T0 + timedelta(seconds=181))
    monitor.observe("AAA", T0 - timedelta(hours=1))  # an older bar never moves time back
    assert monitor.status("AAA", T0).age_seconds == 0.0
    status = monitor.status("AAA", T0 + timedelta(seconds=600))
    assert status.stale and "600s old > 3 × 60s" in status.reason


def _panel(close: np.ndarray, volume: np.ndarray | None = None) -> MarketPanel:
    fields = {"open": close, "high": close, "low": close, "close": close}
    if volume is not None:
        fields["volume"] = volume
    dates = pd.bdate_range("2024-01-01", periods=close.shape[0])
    return MarketPanel(dates, tuple(f"S{i}" for i in range(close.shape[1])), fields)


def test_completeness_on_a_panel() -> None:
    close = np.full((10, 4), 10.0)
    close[0, 0] = np.nan  # 1 of 40 bars → 4 of 160 cells = 2.5 %
    assert completeness_check(_panel(close), 0.05).ok
    close[1:4, 1] = np.nan  # 4 of 40 bars = 10 %
    report = completeness_check(_panel(close), 0.05)
    assert not report.ok
    assert report.fraction == 0.1
    assert report.per_symbol["S1"] == 0.3
    assert "rejected" in report.message


def test_completeness_on_a_batch_counts_absent_symbols() -> None:
    bar = {"open": 1.0, "high": 1.0, "low": 1.0, "close": 1.0}
    batch = [{"symbol": "A", **bar}, {"symbol": "B", **bar, "close": float("nan")}]
    report = completeness_check(batch, 0.3, expected_symbols=["A", "B", "C"])
    # C absent (4 cells) + B's NaN close (1 cell) = 5 of 12
    assert report.missing == 5 and not report.ok
    assert completeness_check(batch[:1], 0.0, expected_symbols=["A"]).ok


def test_tradable_mask_excludes_missing_and_zero_volume_days() -> None:
    close = np.full((3, 2), 10.0)
    close[1, 0] = np.nan
    volume = np.full((3, 2), 100.0)
    volume[2, 1] = 0.0
    mask = tradable_mask(_panel(close, volume))
    assert mask.tolist() == [[True, True], [False, True], [True, False]]
    assert tradable_mask(_panel(close)).sum() == 5
