"""Rich output of the broker commands (probe-account, cancel-all, flatten, rollback)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.table import Table

from algotrade_cli.render import stderr_console, stdout_console


def notice(message: str) -> None:
    """Progress and warnings: stderr."""
    stderr_console().print(message)


def probe(summary: dict[str, Any], artifact_path: str | None) -> None:
    table = Table(title="Account probe (read-only)", show_header=False)
    for key in (
        "connected",
        "account_id_masked",
        "trading_mode",
        "mode_evidence",
        "currency",
        "net_liquidation",
        "buying_power",
        "cash",
        "positions_count",
        "open_orders_count",
        "server_version",
        "failure",
    ):
        value = summary.get(key)
        if isinstance(value, (list, tuple)):
            value = ", ".join(str(v) for v in value)
        if isinstance(value, float):
            value = f"{value:,.2f}"
        table.add_row(key, "" if value is None else str(value))
    console = stdout_console()
    console.print(table)
    if artifact_path:
        console.print(f"wrote {artifact_path}")


def orders_cancelled(summary: dict[str, Any]) -> None:
    """cancel-all: one row per order found, then the verdict."""
    rows: Sequence[dict[str, Any]] = summary["cancelled"]
    remaining, verified = summary["remaining"], summary["verified"]
    console = stdout_console()
    table = Table(title=f"Cancelled orders ({len(rows)})")
    for col in ("order_id", "symbol", "side", "remaining", "confirmed"):
        table.add_column(col)
    for r in rows[:200]:
        table.add_row(
            str(r["order_id"]),
            r["symbol"],
            r["direction"],
            str(r["remaining"]),
            str(r["confirmed"]),
        )
    if rows:
        console.print(table)
    verdict = (
        "[green]verified: no open orders[/]" if verified else f"[red]{remaining} still open[/]"
    )
    console.print(verdict)


def positions_closed(summary: dict[str, Any]) -> None:
    """flatten: one row per closing order, then the verdict."""
    rows: Sequence[dict[str, Any]] = summary["orders"]
    remaining, verified = len(summary["remaining"]), summary["verified"]
    console = stdout_console()
    table = Table(title=f"Closing orders ({len(rows)})")
    for col in ("symbol", "before", "side", "qty", "type", "status"):
        table.add_column(col)
    for r in rows[:200]:
        table.add_row(
            r["symbol"],
            str(r["position_before"]),
            r["direction"],
            str(r["quantity"]),
            r["order_type"],
            r["status"],
        )
    if rows:
        console.print(table)
    verdict = "[green]verified: flat[/]" if verified else f"[red]{remaining} positions left[/]"
    console.print(verdict)


def rollback(report: dict[str, Any], artifact_path: str) -> None:
    console = stdout_console()
    table = Table(title="Rollback (SPEC §7)")
    for col in ("step", "ok", "seconds", "messages", "detail"):
        table.add_column(col)
    for step in report["steps"]:
        table.add_row(
            step["name"],
            "yes" if step["ok"] else "NO",
            f"{step['seconds']:.2f}",
            str(step["messages_sent"]),
            step["detail"],
        )
    console.print(table)
    colour = "green" if report["verdict"] == "FLAT" else "red"
    console.print(
        f"[{colour}]{report['verdict']}[/] in {report['total_seconds']:.2f}s "
        f"(target {report['target_seconds']:.0f}s); "
        f"{sum(1 for o in report['orders_cancelled'] if o['confirmed'])} orders cancelled, "
        f"{sum(1 for p in report['positions_closed'] if p['quantity_after'] == 0)} of "
        f"{len(report['positions_closed'])} positions closed, "
        f"{report['pacing_violations']} pacing violations"
    )
    console.print(f"wrote {artifact_path}")
