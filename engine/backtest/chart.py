"""The backtest chart: equity curve, drawdown, gross/net exposure — rendered to PNG bytes.

Pure: a :class:`~engine.backtest.result.BacktestResult` in, bytes out (the caller writes the
file). Uses matplotlib's non-interactive Agg backend, so it never needs a display.
"""

from __future__ import annotations

import io

from engine.backtest.result import BacktestResult


def render_chart(result: BacktestResult, *, title: str = "Backtest", dpi: int = 110) -> bytes:
    """Three stacked panels sharing the date axis; kill-switch halt marked when there is one."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib.figure import Figure

    daily = result.daily
    if result.first_decision is not None:
        daily = daily.loc[daily.index >= result.first_decision]
    fig = Figure(figsize=(11, 8), dpi=dpi, layout="constrained")
    ax_eq, ax_dd, ax_exp = fig.subplots(
        3, 1, sharex=True, gridspec_kw={"height_ratios": [2.2, 1.0, 1.0]}
    )
    s = result.stats
    ax_eq.plot(daily.index, daily["equity"] / 1e6, color="#1f4e79", linewidth=1.3)
    ax_eq.set_ylabel("Equity (millions)")
    ax_eq.set_title(
        f"{title} — {result.optimizer.upper()}, {len(result.symbols)} assets: "
        f"CAGR {s.cagr:.1%}, Sharpe {s.sharpe:.2f}, max DD {s.max_drawdown:.1%}, "
        f"PSR {result.psr:.2f}",
        fontsize=11,
    )
    ax_eq.grid(alpha=0.3)
    ax_dd.fill_between(daily.index, -100 * daily["drawdown"], 0.0, color="#b03a2e", alpha=0.6)
    ax_dd.set_ylabel("Drawdown (%)")
    ax_dd.grid(alpha=0.3)
    ax_exp.plot(daily.index, daily["gross"], label="gross Σ|w|", color="#2e7d32", linewidth=1.0)
    ax_exp.plot(daily.index, daily["net"], label="net Σw", color="#ef6c00", linewidth=1.0)
    ax_exp.axhline(0.0, color="black", linewidth=0.5)
    if result.regime_states is not None:
        states = result.regime_states[-len(daily) :]
        top = max(float(daily["gross"].max()), 1.0) * 1.05
        ax_exp.fill_between(
            daily.index,
            0.0,
            top,
            where=states == 2,
            color="#9e9e9e",
            alpha=0.25,
            step="mid",
            label="storm regime",
            linewidth=0,
        )
        limit = daily["gross_limit"].ffill()
        if result.halted_at is not None:
            limit = limit.where(daily.index <= result.halted_at)
        ax_exp.step(
            daily.index,
            limit,
            where="post",
            color="#2e7d32",
            linestyle=":",
            linewidth=0.9,
            label="gross limit",
        )
    ax_exp.set_ylabel("Exposure (× equity)")
    ax_exp.legend(loc="upper left", fontsize=8, ncols=4)
    ax_exp.grid(alpha=0.3)
    if result.halted_at is not None:
        for ax in (ax_eq, ax_dd, ax_exp):
            ax.axvline(result.halted_at, color="red", linestyle="--", linewidth=1.0)
        ax_eq.annotate(
            f"kill switch: {result.halt_reason}",
            xy=(result.halted_at, ax_eq.get_ylim()[1]),
            xytext=(5, -14),
            textcoords="offset points",
            color="red",
            fontsize=9,
        )
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()
