"""``algotrade validate-message``: validate bus messages from a file or stdin."""

from __future__ import annotations

import typer

from algotrade_cli.context import guarded, not_available


@guarded
def validate_message(ctx: typer.Context) -> int:
    """Validate messages (JSON object, array or NDJSON) against the five contracts."""
    return not_available("validate-message", "message validation")
