"""Rendering of ``algotrade backtest``: the progress bar (stderr) and the summary (stdout)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from algotrade_cli.render import live_allowed, stderr_console, stdout_console


@contextlib.contextmanager
def rebalance_progress(label: str) -> Iterator[Callable[[int, int], None]]:
    """A progress callback ``(done, total)``; a live bar on a terminal, silent otherwise."""
    if not live_allowed():
        yield lambda done, total: None
        return
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("rebalances"),
        TimeElapsedColumn(),
        console=stderr_console(),
        transient=True,
    )
    task = progress.add_task(label, total=None)

    def update(done: int, total: int) -> None:
        progress.update(task, completed=done, total=total)

    with progress:
        yield update


def note(message: str) -> None:
    """A status line on stderr."""
    stderr_console().print(message, markup=False, soft_wrap=True)


def render_summary(summary: dict[str, Any]) -> None:
    """The end-of-run table: statistics, signals, risk events, costs and output files."""
    console = stdout_console()
    stats = summary["statistics"]
    table = Table(title=summary["title"], show_header=True, header_style="bold")
    table.add_column("Statistic")
    table.add_column("Value", justify="right")
    rows = [
        ("Total return", _pct(stats["total_return"])),
        ("CAGR", _pct(stats["cagr"])),
        ("Volatility (ann.)", _pct(stats["annual_volatility"])),
        ("Sharpe", _num(stats["sharpe"])),
        ("Sortino", _num(stats["sortino"])),
        ("Max drawdown", _pct(stats["max_drawdown"])),
        ("Drawdown duration", f"{stats['max_drawdown_duration_days']} days"),
        ("Calmar", _num(stats["calmar"])),
        ("Turnover (ann.)", _num(stats["turnover"])),
        ("Hit rate", _pct(stats["hit_rate"])),
        ("PSR (SR* = 0)", _num(stats["psr"], 3)),
        ("Costs", f"{summary['costs']['total']:,.0f} ({_pct(summary['costs']['fraction'])})"),
        ("Failed solves", str(summary["failed_solves"])),
        ("Kill switch", summary["kill_switch"]),
    ]
    regime = summary.get("regime")
    if regime is not None:
        days = regime["days_in_state"]
        text = " / ".join(f"{k} {v}" for k, v in days.items()) + " days"
        if regime["accuracy_vs_truth"] is not None:
            text += f" (vs truth {regime['accuracy_vs_truth']:.0%})"
        rows.append(("Regimes", text))
    for name, value in rows:
        table.add_row(name, value)
    console.print(table)
    sig = Table(title="Signals (rank IC vs next-day return, ensemble weight)", header_style="bold")
    for col in ("Signal", "Mean IC", "IC t-stat", "Mean weight", "Final weight"):
        sig.add_column(col, justify="left" if col == "Signal" else "right")
    for s in summary["signals"]:
        sig.add_row(
            s["name"],
            _num(s["mean_ic"], 4),
            _num(s["ic_tstat"], 1),
            _pct(s["mean_weight"]),
            _pct(s["final_weight"]),
        )
    for name, reason in summary["dropped"].items():
        sig.add_row(name, "dropped", reason, "", "")
    console.print(sig)
    for warning in summary["warnings"]:
        console.print(f"note: {warning}", style="yellow", markup=False, soft_wrap=True)
    for label, path in summary["outputs"].items():
        console.print(f"{label}: {path}", markup=False, soft_wrap=True)


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2%}"


def _num(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"
