"""Rich output of ``algotrade paper-session``: the live dashboard (TTY only) and the summary."""

from __future__ import annotations

from typing import Any

from rich.live import Live
from rich.table import Table

from algotrade_cli.render import stderr_console, stdout_console


def _fmt(value: Any, spec: str = ".2f") -> str:
    if value is None:
        return "—"
    try:
        return format(value, spec)
    except (TypeError, ValueError):
        return str(value)


class SessionDashboard:
    """A live table on stderr: P&L, drawdown, PSR, orders, fills, latency, kill switch."""

    def __init__(self) -> None:
        self._live = Live(Table(), console=stderr_console(), refresh_per_second=4, transient=False)

    def start(self) -> None:
        self._live.start()

    def stop(self) -> None:
        self._live.stop()

    def update(self, snap: dict[str, Any]) -> None:
        s = snap["sample"]
        table = Table(
            title=f"paper session — bar {snap['bar']}/{snap['bars']}  {snap['at']:%H:%M} UTC"
        )
        table.add_column("measure")
        table.add_column("value", justify="right")
        rows = [
            ("P&L", f"{s.pnl:,.2f} ({s.pnl_fraction:+.3%})"),
            ("drawdown", _fmt(s.drawdown, ".3%")),
            ("PSR", _fmt(s.psr, ".3f")),
            ("orders / fills", f"{s.orders} / {s.fills}"),
            ("fill rate", _fmt(s.fill_rate, ".1%")),
            ("latency p50 / p95 / p99 ms",
             f"{_fmt(s.latency_p50_ms, '.1f')} / {_fmt(s.latency_p95_ms, '.1f')} / "
             f"{_fmt(s.latency_p99_ms, '.1f')}"),
            ("pacing violations", str(s.pacing_violations)),
            ("positions", str(len(snap["positions"]))),
            ("gross exposure", _fmt(s.gross_exposure, ".2f")),
            ("cost estimate", _fmt(snap["cost"] * 1e4, ".2f") + " bps"),
            ("stale symbols", ", ".join(snap["stale"]) or "none"),
            ("kill switch", s.kill_switch_state + (f" — {snap['halt']}" if snap["halt"] else "")),
        ]  # fmt: skip
        for name, value in rows:
            table.add_row(name, value)
        self._live.update(table)


def render_summary(p: dict[str, Any]) -> None:
    """The end-of-session summary on stdout (the figures gate 7 judges)."""
    console = stdout_console()
    lat, base = p["latency_ms"] or {}, p["baseline_ms"]
    table = Table(title=f"paper session {p['session_id']} — {p['status']}")
    table.add_column("measure")
    table.add_column("value", justify="right")
    delta = p["latency_delta"]
    rows = [
        ("intents / orders / trades", f"{p['intents']} / {p['orders']} / {p['trades']}"),
        ("fill rate", _fmt(p["fill_rate"], ".2%")),
        ("latency p50 / p95 / p99 ms",
         f"{_fmt(lat.get('p50'), '.1f')} / {_fmt(lat.get('p95'), '.1f')} / "
         f"{_fmt(lat.get('p99'), '.1f')}"),
        ("baseline p50 / p95 / p99 ms",
         "not recorded" if base is None else
         f"{_fmt(base['p50'], '.1f')} / {_fmt(base['p95'], '.1f')} / {_fmt(base['p99'], '.1f')}"),
        ("latency delta (p95)", "—" if delta is None else f"{delta:+.1%}"),
        ("pacing violations", str(p["pacing_violations"])),
        ("P&L", f"{p['pnl']:,.2f}"),
        ("max drawdown", _fmt(p["max_drawdown"], ".3%")),
        ("Sharpe paper / backtest",
         f"{_fmt(p['sharpe_paper'])} / {_fmt(p['sharpe_backtest'])}"),
        ("PSR", _fmt(p["psr"], ".3f")),
        ("dead letters", str(sum(p["dlq"].values()))),
        ("wall time", f"{p['wall_seconds']:.1f} s at {p['speed']:g}×"),
    ]  # fmt: skip
    for name, value in rows:
        table.add_row(name, value)
    console.print(table)
    for halt in p["kill_switch"]:
        console.print(f"[bold red]kill switch:[/] {halt}")
    for w in p["warnings"]:
        console.print(f"[yellow]warning:[/] {w}")
    arts = p["artifacts"]
    console.print(
        f"wrote {arts['log']}, {arts['metrics']}"
        + (f", {arts['baseline']}" if arts["baseline"] else "")
    )
