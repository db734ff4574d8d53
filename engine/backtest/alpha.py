"""From signals to expected returns: the ensemble score and the Grinold mapping.

``μ_i,t = IC_t · σ_i,t · z_i,t / h`` — Grinold's "alpha = IC × volatility × score"
(Grinold & Kahn, *Active Portfolio Management*, ch. 10), with

- ``z`` the IC-weighted ensemble score, re-standardised cross-sectionally (mean 0, sd 1 per date);
- ``σ`` each asset's daily return volatility over the covariance window (known at t);
- ``IC_t = Σ_k w_k,t · IC̄_k,t`` the ensemble-weighted rolling mean rank IC of the signals at t
  (only ICs whose forward returns were realised by t), clipped at 0 — no edge, no bet;
- ``h`` the IC horizon in bars: an IC measured on h-bar returns predicts ``IC·σ·√h·z`` over h bars,
  i.e. ``IC·σ·z/√h`` per bar.

``μ`` is therefore an expected return per bar (a fraction); daily values are a few basis points,
which is what the QP's λ convention (λ prices μ in basis points) expects.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from engine.config import SignalsConfig
from engine.data.panel import MarketPanel


@dataclass(frozen=True)
class AlphaSignals:
    """Causal per-date inputs of the portfolio step.

    ``combined`` (T, N) ensemble score at the close of each row; ``ic_estimate`` (T,) the IC the
    mapping uses; ``ics`` and ``weights`` (T, K) per signal; ``names`` (K,).
    """

    names: tuple[str, ...]
    combined: np.ndarray
    ic_estimate: np.ndarray
    ics: np.ndarray
    weights: np.ndarray
    ic_mean: np.ndarray | None = None
    horizon: int = 1
    dropped: dict[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()


AlphaModel = Callable[[MarketPanel, SignalsConfig], AlphaSignals]


def ensemble_alpha(panel: MarketPanel, cfg: SignalsConfig) -> AlphaSignals:
    """The product's alpha: the six signals, their IC-weighted ensemble, the ensemble's IC."""
    from engine.signals import compute_signals
    from engine.signals.ensemble import ic_weighted_ensemble

    signal_set = compute_signals(panel, cfg)
    names = tuple(signal_set.scores)
    t, n = panel.T, panel.N
    if not names:
        empty = np.zeros((t, 0))
        return AlphaSignals(
            names=(),
            combined=np.full((t, n), np.nan),
            ic_estimate=np.zeros(t),
            ics=empty,
            weights=empty,
            horizon=cfg.ic_horizon,
            dropped=dict(signal_set.dropped),
            warnings=(*signal_set.warnings, "no signal could be computed: the strategy stays flat"),
        )
    ens = ic_weighted_ensemble(signal_set.scores, panel.returns(), cfg)
    ic_mean = np.asarray(ens.ic_mean, dtype=float)
    weights = np.asarray(ens.weights, dtype=float)
    ic_est = np.sum(np.nan_to_num(weights) * np.nan_to_num(ic_mean), axis=1)
    return AlphaSignals(
        names=tuple(ens.names),
        combined=np.asarray(ens.combined, dtype=float),
        ic_estimate=np.clip(ic_est, 0.0, None),
        ics=np.asarray(ens.ics, dtype=float),
        weights=weights,
        ic_mean=ic_mean,
        horizon=cfg.ic_horizon,
        dropped=dict(signal_set.dropped),
        warnings=tuple(signal_set.warnings),
    )


def cross_sectional_z(row: np.ndarray) -> np.ndarray:
    """Row z-score over finite entries; NaN → 0 (no view)."""
    finite = np.isfinite(row)
    out = np.zeros_like(row, dtype=float)
    if finite.sum() < 2:
        return out
    vals = row[finite]
    sd = float(vals.std())
    if sd <= 0:
        return out
    out[finite] = (vals - vals.mean()) / sd
    return out


def expected_returns(
    score_row: np.ndarray, sigma: np.ndarray, ic: float, horizon: int = 1
) -> np.ndarray:
    """Grinold mapping ``IC·σ·z/√h`` (N,), per bar; no view (NaN score or σ) → 0."""
    z = cross_sectional_z(np.asarray(score_row, dtype=float))
    s = np.where(np.isfinite(sigma), sigma, 0.0)
    if not math.isfinite(ic) or ic <= 0:
        return np.zeros_like(z)
    return ic * s * z / math.sqrt(max(horizon, 1))
