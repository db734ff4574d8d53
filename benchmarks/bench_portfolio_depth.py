"""Portfolio depth: HRP against PyPortfolioOpt's ``HRPOpt``, and CSCV/PBO over all splits.

``python -m benchmarks.bench_portfolio_depth`` times, in one run:

- HRP on 500 assets (1,000 daily returns from a 10-factor model; ``--quick``: 200 assets):
  (a) PyPortfolioOpt ``HRPOpt(returns).optimize()`` — the baseline, linkage on the condensed
  correlation distance; (b) ours, ``hrp_weights(np.cov(returns), linkage="library")`` — the same
  convention, covariance included in the time; both must give the same weights (max abs
  difference ≤ 1e-8, asserted). For context, (c) ours with the paper's convention (distance of
  distances). Target (issue 4): (b) at least 3x faster than (a).
- CSCV/PBO with S = 16 blocks on a 2,520 × 200 returns matrix: all C(16, 8) = 12,870 splits
  (``--quick``: S = 10 on 1,260 × 100, 252 splits).

Each timing is the best of ``--repeat`` runs. Prints a plain table and writes
``benchmarks/results/portfolio_depth.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results" / "portfolio_depth.json"
TARGET_HRP_SPEEDUP = 3.0
HRP_TOLERANCE = 1e-8


def _best_of(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    best = float("inf")
    out: Any = None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def factor_returns(n_obs: int, n_assets: int, seed: int = 7) -> np.ndarray:
    rng = np.random.default_rng(seed)
    factors = rng.normal(0.0, 0.01, (n_obs, 10))
    loadings = rng.normal(0.0, 1.0, (10, n_assets))
    idio = rng.normal(0.0, 0.015, (n_obs, n_assets)) * rng.uniform(0.5, 2.0, n_assets)
    return np.asarray(factors @ loadings + idio)


def bench_hrp(n_assets: int, repeat: int) -> dict[str, Any]:
    import pandas as pd
    from pypfopt import HRPOpt

    from engine.portfolio.hrp import hrp_weights

    returns = factor_returns(1000, n_assets)
    names = [f"A{i:04d}" for i in range(n_assets)]  # HRPOpt orders its output by name
    frame = pd.DataFrame(returns, columns=names)

    def baseline() -> np.ndarray:
        return pd.Series(HRPOpt(returns=frame).optimize())[names].to_numpy()

    def ours_library() -> np.ndarray:
        return hrp_weights(np.cov(returns, rowvar=False), linkage="library")

    def ours_paper() -> np.ndarray:
        return hrp_weights(np.cov(returns, rowvar=False), linkage="paper")

    t_base, w_base = _best_of(baseline, max(1, repeat // 2))
    t_lib, w_lib = _best_of(ours_library, repeat)
    t_paper, _ = _best_of(ours_paper, repeat)
    max_diff = float(np.abs(w_base - w_lib).max())
    return {
        "n_assets": n_assets,
        "n_obs": 1000,
        "pyportfolioopt_seconds": t_base,
        "ours_library_seconds": t_lib,
        "ours_paper_seconds": t_paper,
        "speedup": t_base / t_lib,
        "max_abs_weight_difference": max_diff,
        "same_answer": max_diff <= HRP_TOLERANCE,
    }


def bench_pbo(n_obs: int, n_configs: int, n_blocks: int, repeat: int) -> dict[str, Any]:
    from engine.stats.cscv import cscv

    m = np.random.default_rng(11).normal(0.0, 0.01, (n_obs, n_configs))
    seconds, result = _best_of(lambda: cscv(m, n_blocks), repeat)
    return {
        "n_obs": n_obs,
        "n_configs": n_configs,
        "n_blocks": n_blocks,
        "n_splits": result.n_splits,
        "seconds": seconds,
        "splits_per_second": result.n_splits / seconds,
        "pbo_of_noise": result.pbo,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="200 assets; PBO with S = 10")
    parser.add_argument("--repeat", type=int, default=5, help="best of this many runs")
    args = parser.parse_args(list(argv) if argv is not None else None)
    repeat = 2 if args.quick else args.repeat

    hrp = bench_hrp(200 if args.quick else 500, repeat)
    pbo = bench_pbo(*((1260, 100, 10) if args.quick else (2520, 200, 16)), repeat)

    print(f"HRP, {hrp['n_assets']} assets × {hrp['n_obs']} returns")
    print(f"{'method':<48} {'seconds':>10}")
    print(f"{'(a) PyPortfolioOpt HRPOpt (baseline)':<48} {hrp['pyportfolioopt_seconds']:>10.4f}")
    print(f"{'(b) ours, library convention':<48} {hrp['ours_library_seconds']:>10.4f}")
    print(f"{'(c) ours, paper convention (context)':<48} {hrp['ours_paper_seconds']:>10.4f}")
    print(
        f"ours vs HRPOpt: {hrp['speedup']:.1f}x faster (target >= {TARGET_HRP_SPEEDUP:g}x); "
        f"max |Δw| = {hrp['max_abs_weight_difference']:.2e} (must be <= {HRP_TOLERANCE:g})"
    )
    print()
    print(
        f"CSCV/PBO, {pbo['n_obs']:,} × {pbo['n_configs']} returns, S = {pbo['n_blocks']}: "
        f"{pbo['n_splits']:,} splits in {pbo['seconds']:.3f} s "
        f"({pbo['splits_per_second']:,.0f} splits/s; PBO of noise = {pbo['pbo_of_noise']:.3f})"
    )

    ok = hrp["same_answer"] and hrp["speedup"] >= TARGET_HRP_SPEEDUP
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "benchmark": "portfolio_depth",
                "quick": args.quick,
                "python": sys.version.split()[0],
                "machine": platform.machine(),
                "hrp": hrp,
                "pbo": pbo,
                "targets": {"hrp_speedup": TARGET_HRP_SPEEDUP, "hrp_tolerance": HRP_TOLERANCE},
                "ok": ok,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {RESULTS}")
    if not hrp["same_answer"]:
        print("FAILED: HRP weights differ from PyPortfolioOpt under the library convention")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
