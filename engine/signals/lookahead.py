"""Look-ahead check: a value computed for row t must not change when rows after t are removed.

:func:`check_lookahead` runs a compute function on the full panel and on the panel truncated
after each sampled row ``t`` (``panel.truncate(t + 1)``), and compares every component's rows
``0 … t``. Components are arrays whose first axis is time (``(T,)``, ``(T, N)`` or ``(T, K)``).
Any difference beyond ``atol`` (NaN vs a number counts as a difference) is reported with the
component name, the first differing row and date, and the largest absolute difference.

:func:`signal_pipeline` builds the compute function for the six signals and the ensemble; the
backtest adds its own components (e.g. portfolio weights) through ``extra``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from engine.config import SignalsConfig
from engine.data.panel import MarketPanel
from engine.signals import SignalFn, compute_signals
from engine.signals.ensemble import ic_weighted_ensemble

ComputeFn = Callable[[MarketPanel], Mapping[str, np.ndarray]]


@dataclass(frozen=True)
class LookaheadDiff:
    """One component that changed when the future was removed."""

    component: str
    row: int
    date: str
    truncated_at: int
    max_abs_diff: float
    n_values: int


@dataclass(frozen=True)
class LookaheadReport:
    """``ok`` when no component differs at any checked row."""

    ok: bool
    checked_rows: tuple[int, ...]
    components: tuple[str, ...]
    differences: tuple[LookaheadDiff, ...]

    @property
    def leaky_components(self) -> tuple[str, ...]:
        """Names of the components that differ, in first-seen order."""
        return tuple(dict.fromkeys(d.component for d in self.differences))

    def summary(self) -> str:
        if self.ok:
            return (
                f"no look-ahead: {len(self.components)} component(s) identical on history "
                f"truncated at {len(self.checked_rows)} date(s)"
            )
        worst = {d.component: d for d in self.differences}
        parts = [
            f"{c} (first at {d.date}, max |diff| {d.max_abs_diff:.3g})" for c, d in worst.items()
        ]
        return "look-ahead detected in: " + "; ".join(parts)


def sample_rows(T: int, n: int, *, seed: int = 0, min_row: int = 1) -> tuple[int, ...]:
    """``n`` distinct rows in ``[min_row, T − 2]`` (sorted), drawn with ``seed``; the last
    row is excluded because truncating there removes nothing."""
    lo, hi = max(0, min_row), T - 2
    if hi < lo:
        return ()
    candidates = np.arange(lo, hi + 1)
    rng = np.random.Generator(np.random.PCG64(seed))
    pick = rng.choice(candidates, size=min(n, len(candidates)), replace=False)
    return tuple(sorted(int(r) for r in pick))


def _diff(full: np.ndarray, trunc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-row max abs difference and per-row count of differing values."""
    a = np.asarray(full, dtype=float).reshape(full.shape[0], -1)
    b = np.asarray(trunc, dtype=float).reshape(trunc.shape[0], -1)
    fa, fb = np.isfinite(a), np.isfinite(b)
    nan_mismatch = fa != fb
    with np.errstate(invalid="ignore"):
        delta = np.where(fa & fb, np.abs(a - b), 0.0)
    delta = np.where(nan_mismatch, np.inf, delta)
    return delta.max(axis=1) if delta.shape[1] else np.zeros(a.shape[0]), delta


def check_lookahead(
    compute_fn: ComputeFn,
    panel: MarketPanel,
    sample_rows: Sequence[int],
    *,
    atol: float = 1e-9,
) -> LookaheadReport:
    """Compare ``compute_fn(panel)`` with ``compute_fn(panel.truncate(t + 1))`` on rows ≤ t.

    Parameters
    ----------
    compute_fn : callable
        ``panel -> {component: array with T rows}``; must be deterministic.
    panel : MarketPanel
    sample_rows : sequence of int
        Rows ``t`` at which history is cut (see :func:`sample_rows`).
    atol : float
        Largest absolute difference tolerated (rounding).
    """
    full = dict(compute_fn(panel))
    diffs: list[LookaheadDiff] = []
    rows = tuple(sorted({int(r) for r in sample_rows if 0 <= int(r) < panel.T}))
    for t in rows:
        truncated = compute_fn(panel.truncate(t + 1))
        for name, values in full.items():
            if name not in truncated:
                diffs.append(LookaheadDiff(name, t, str(panel.dates[t].date()), t, np.inf, 0))
                continue
            head = np.asarray(values)[: t + 1]
            other = np.asarray(truncated[name])[: t + 1]
            if head.shape != other.shape:
                diffs.append(LookaheadDiff(name, t, str(panel.dates[t].date()), t, np.inf, 0))
                continue
            row_max, delta = _diff(head, other)
            bad_rows = np.flatnonzero(row_max > atol)
            if len(bad_rows):
                first = int(bad_rows[0])
                diffs.append(
                    LookaheadDiff(
                        component=name,
                        row=first,
                        date=str(panel.dates[first].date()),
                        truncated_at=t,
                        max_abs_diff=float(row_max.max()),
                        n_values=int((delta > atol).sum()),
                    )
                )
    return LookaheadReport(
        ok=not diffs, checked_rows=rows, components=tuple(full), differences=tuple(diffs)
    )


def signal_pipeline(
    cfg: SignalsConfig,
    *,
    extra_signals: Mapping[str, SignalFn] | None = None,
    extra: Callable[[MarketPanel], Mapping[str, np.ndarray]] | None = None,
) -> ComputeFn:
    """Compute function for :func:`check_lookahead`: every signal, the ensemble and ``extra``.

    Components: ``signal:<CODE>`` (T, N) per computed signal, ``ensemble:combined`` (T, N),
    ``ensemble:weights`` (T, K), ``ensemble:ics`` (T, K), plus whatever ``extra(panel)`` returns
    (e.g. the backtest's target portfolio weights per row).
    """

    def run(panel: MarketPanel) -> dict[str, np.ndarray]:
        sigs = compute_signals(panel, cfg, extra=extra_signals)
        out = {f"signal:{k}": v for k, v in sigs.scores.items()}
        ens = ic_weighted_ensemble(sigs.scores, panel.returns(), cfg)
        out["ensemble:combined"] = ens.combined
        out["ensemble:weights"] = ens.weights
        out["ensemble:ics"] = ens.ics
        if extra is not None:
            out.update(extra(panel))
        return out

    return run
