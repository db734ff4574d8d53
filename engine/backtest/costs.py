"""Trading costs of the backtest: IBKR-like commission, half-spread and square-root impact.

Per order of ``q`` shares (any sign) at price ``p``, notional ``V = |q|·p``:

- commission = ``min(max(c·|q|, c_min), pct_max·V)`` (IBKR fixed pricing: $0.005/share, $1
  minimum, at most 1 % of trade value — the cap wins over the minimum); 0 when ``q = 0``;
- spread = ``half_spread_bps/10⁴ · V`` (we cross half the bid–ask spread);
- impact = ``impact_coef · σ_d · √(|q| / ADV) · V`` (square-root law; σ_d the daily return
  volatility and ADV the average daily volume in shares, both known at decision time). Without a
  volume column ADV is unknown and the impact term is 0 (the report warns).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.config import CostsConfig


@dataclass(frozen=True)
class TradeCosts:
    """Costs per asset (N,) of one rebalance, account currency."""

    commission: np.ndarray
    spread: np.ndarray
    impact: np.ndarray

    @property
    def total(self) -> np.ndarray:
        return self.commission + self.spread + self.impact


def trade_costs(
    shares: np.ndarray,
    price: np.ndarray,
    cfg: CostsConfig,
    *,
    daily_vol: np.ndarray | None = None,
    adv: np.ndarray | None = None,
) -> TradeCosts:
    """Costs of trading ``shares`` (N,) at ``price`` (N,); NaN vol/ADV → no impact for that asset."""
    q = np.abs(np.asarray(shares, dtype=float))
    p = np.asarray(price, dtype=float)
    traded = q > 0
    notional = np.where(traded, q * np.where(np.isfinite(p), p, 0.0), 0.0)
    per_share = cfg.commission_per_share * q
    commission = np.minimum(
        np.maximum(per_share, cfg.commission_min), cfg.commission_max_pct * notional
    )
    commission = np.where(traded, commission, 0.0)
    spread = cfg.half_spread_bps * 1e-4 * notional
    impact = np.zeros_like(notional)
    if daily_vol is not None and adv is not None:
        vol = np.asarray(daily_vol, dtype=float)
        volume = np.asarray(adv, dtype=float)
        ok = traded & np.isfinite(vol) & np.isfinite(volume) & (volume > 0)
        participation = np.divide(q, volume, out=np.zeros_like(q), where=ok)
        impact = np.where(ok, cfg.impact_coef * np.nan_to_num(vol) * np.sqrt(participation), 0.0)
        impact = impact * notional
    return TradeCosts(commission=commission, spread=spread, impact=impact)
