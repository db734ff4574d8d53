"""``algotrade schemas export|check``."""

from __future__ import annotations

import typer

from algotrade_cli.context import guarded, not_available

schemas_app = typer.Typer(no_args_is_help=True)


@schemas_app.command("export")
@guarded
def export(ctx: typer.Context) -> int:
    """Regenerate the checked-in JSON Schemas from the models."""
    return not_available("schemas export", "schema export")


@schemas_app.command("check")
@guarded
def check(ctx: typer.Context) -> int:
    """Validate every artifact in a directory against its schema."""
    return not_available("schemas check", "artifact checking")
