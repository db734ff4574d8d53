"""``algotrade paper-session``: the three planes against a paper broker."""

from __future__ import annotations

import typer

from algotrade_cli.context import guarded, not_available


@guarded
def paper_session(ctx: typer.Context) -> int:
    """Run data, strategy and order planes on the bus; writes PAPER_TRADING_LOG.json."""
    return not_available("paper-session", "the paper session")
