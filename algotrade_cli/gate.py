"""``algotrade gate run|list|status`` and ``algotrade go-live``."""

from __future__ import annotations

import typer

from algotrade_cli.context import guarded, not_available

gate_app = typer.Typer(no_args_is_help=True)


@gate_app.command("run")
@guarded
def run(ctx: typer.Context, gates: str = typer.Argument("1-8", help="1-8, 6, 3-5 or all.")) -> int:
    """Run gates in order; stop at the first failure."""
    return not_available("gate run", "the gate framework")


@gate_app.command("list")
@guarded
def list_gates(ctx: typer.Context) -> int:
    """List the gates, their inputs, outputs and thresholds."""
    return not_available("gate list", "the gate framework")


@gate_app.command("status")
@guarded
def status(ctx: typer.Context) -> int:
    """Latest verdicts from PRELIVE_VERIFICATION_LOG.json."""
    return not_available("gate status", "the gate framework")


@guarded
def go_live(ctx: typer.Context) -> int:
    """Gate 8 with the full go-live decision printed."""
    return not_available("go-live", "the go-live decision")
