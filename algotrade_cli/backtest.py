"""``algotrade backtest``: the trading engine over history."""

from __future__ import annotations

import typer

from algotrade_cli.context import guarded, not_available


@guarded
def backtest(ctx: typer.Context) -> int:
    """Run the engine over history (synthetic market by default) and write BACKTEST_REPORT.json."""
    return not_available("backtest", "the backtest engine")
