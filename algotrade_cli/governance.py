"""``algotrade governance sign|status``: named sign-offs bound to hashes."""

from __future__ import annotations

import typer

from algotrade_cli.context import guarded, not_available

governance_app = typer.Typer(no_args_is_help=True)


@governance_app.command("sign")
@guarded
def sign(ctx: typer.Context) -> int:
    """Record a sign-off for a role, bound to the SHA-256 of what is signed."""
    return not_available("governance sign", "governance sign-offs")


@governance_app.command("status")
@guarded
def status(ctx: typer.Context) -> int:
    """Who signed what, and whether it still counts."""
    return not_available("governance status", "governance sign-offs")
