"""Data-quality gates (SPEC §2.1): freshness monitor, completeness gate, tradable mask.

* :class:`FreshnessMonitor` — a symbol whose last bar is older than ``multiple × interval`` is
  stale (and not traded). The clock is passed in: ``now`` is an argument, never the wall clock.
* :func:`completeness_check` — missing bars or NaNs above ``max_missing_fraction`` reject a batch
  (a panel or a list of bars).
* :func:`tradable_mask` — the backtest trades symbol ``i`` on day ``t`` only if the bar is
  complete (finite, positive OHLC; volume not 0 when volume is known).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from engine.data.panel import REQUIRED_FIELDS, MarketPanel


# --- freshness ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class FreshnessStatus:
    """Freshness of one symbol at ``now``; ``age_seconds`` is None when never seen."""

    symbol: str
    last_bar: datetime | None
    age_seconds: float | None
    stale: bool
    reason: str


class FreshnessMonitor:
    """Tracks the last bar time per symbol and says which are stale at a given time.

    Parameters
    ----------
    interval : timedelta or float
        Bar interval (a float is seconds).
    multiple : float
        Stale when ``now − last_bar > multiple × interval`` (config ``qa.freshness_multiple``).
    symbols : iterable of str, optional
        Symbols expected; one never seen is stale.
    """

    def __init__(
        self,
        interval: timedelta | float,
        multiple: float = 3.0,
        symbols: Iterable[str] = (),
    ) -> None:
        seconds = interval.total_seconds() if isinstance(interval, timedelta) else float(interval)
        if seconds <= 0 or multiple <= 0:
            raise ValueError("interval and multiple must be positive")
        self.max_age = seconds * multiple
        self.multiple = multiple
        self.interval_seconds = seconds
        self._last: dict[str, datetime | None] = {s: None for s in symbols}

    def observe(self, symbol: str, bar_time: datetime) -> None:
        """Record a bar of ``symbol`` stamped ``bar_time`` (older stamps never move it back)."""
        previous = self._last.get(symbol)
        if previous is None or bar_time > previous:
            self._last[symbol] = bar_time

    def status(self, symbol: str, now: datetime) -> FreshnessStatus:
        last = self._last.get(symbol)
        if last is None:
            return FreshnessStatus(symbol, None, None, True, "no bar received yet")
        age = (now - last).total_seconds()
        stale = age > self.max_age
        reason = (
            f"last bar {age:.0f}s old > {self.multiple:g} × {self.interval_seconds:g}s"
            if stale
            else "fresh"
        )
        return FreshnessStatus(symbol, last, age, stale, reason)

    def is_stale(self, symbol: str, now: datetime) -> bool:
        return self.status(symbol, now).stale

    def stale(self, now: datetime) -> tuple[str, ...]:
        """Symbols stale at ``now``, sorted."""
        return tuple(sorted(s for s in self._last if self.status(s, now).stale))

    def report(self, now: datetime) -> tuple[FreshnessStatus, ...]:
        return tuple(self.status(s, now) for s in sorted(self._last))


# --- completeness -------------------------------------------------------------------------------
@dataclass(frozen=True)
class CompletenessReport:
    """Outcome of the completeness gate.

    ``expected`` cells (bars × required fields), ``missing`` of them absent or NaN,
    ``fraction = missing / expected``; ``ok`` when ``fraction ≤ threshold``. ``per_symbol``
    gives each symbol's missing fraction.
    """

    ok: bool
    expected: int
    missing: int
    fraction: float
    threshold: float
    per_symbol: Mapping[str, float] = field(default_factory=dict)
    message: str = ""


def completeness_check(
    data: MarketPanel | Sequence[Mapping[str, Any]],
    max_missing_fraction: float = 0.05,
    *,
    expected_symbols: Sequence[str] | None = None,
    fields: Sequence[str] = REQUIRED_FIELDS,
) -> CompletenessReport:
    """Reject a batch whose share of missing bars or NaN values exceeds the threshold.

    ``data`` is a panel (every date × symbol expected) or a batch of bar mappings with a
    ``symbol`` key and the ``fields`` (one bar per symbol of ``expected_symbols`` expected;
    default the symbols present).
    """
    if isinstance(data, MarketPanel):
        stack = np.stack([data.fields[f] for f in fields if f in data.fields], axis=2)
        bad = ~np.isfinite(stack)
        expected = int(bad.size)
        missing = int(bad.sum())
        per_cell = bad.reshape(data.T, data.N, -1)
        per_symbol = {
            s: float(per_cell[:, j].mean()) if data.T else 1.0 for j, s in enumerate(data.symbols)
        }
    else:
        bars = list(data)
        symbols = (
            list(expected_symbols)
            if expected_symbols is not None
            else sorted({str(b.get("symbol")) for b in bars})
        )
        by_symbol: dict[str, list[Mapping[str, Any]]] = {s: [] for s in symbols}
        for b in bars:
            by_symbol.setdefault(str(b.get("symbol")), []).append(b)
        expected = len(symbols) * len(fields)
        missing = 0
        per_symbol = {}
        for s in symbols:
            got = by_symbol.get(s) or []
            if not got:
                n_bad = len(fields)
            else:
                bar = got[-1]
                n_bad = sum(1 for f in fields if not _finite(bar.get(f)))
            missing += n_bad
            per_symbol[s] = n_bad / len(fields) if fields else 0.0
    fraction = missing / expected if expected else 1.0
    ok = fraction <= max_missing_fraction and expected > 0
    message = (
        f"{missing} of {expected} values missing ({fraction:.2%}); threshold "
        f"{max_missing_fraction:.2%}: {'accepted' if ok else 'rejected'}"
    )
    return CompletenessReport(
        ok, expected, missing, fraction, max_missing_fraction, per_symbol, message
    )


def _finite(value: Any) -> bool:
    try:
        return bool(np.isfinite(float(value)))
    except (TypeError, ValueError):
        return False


# --- tradability --------------------------------------------------------------------------------
def tradable_mask(panel: MarketPanel) -> np.ndarray:
    """Boolean ``(T, N)``: True where the day's bar is complete and tradable.

    Complete = open, high, low and close finite and positive; when a volume column exists, a
    NaN or zero volume also makes the day untradable (no trading happened).
    """
    ok = np.ones((panel.T, panel.N), dtype=bool)
    for name in REQUIRED_FIELDS:
        arr = panel.fields[name]
        with np.errstate(invalid="ignore"):
            ok &= np.isfinite(arr) & (arr > 0)
    volume = panel.get("volume")
    if volume is not None and panel.has("volume"):
        with np.errstate(invalid="ignore"):
            ok &= np.isfinite(volume) & (volume > 0)
    return ok
