"""Broker commands: ``probe-account``, ``flatten``, ``cancel-all``, ``rollback``."""

from __future__ import annotations

import typer

from algotrade_cli.context import guarded, not_available


@guarded
def probe_account(ctx: typer.Context) -> int:
    """Read-only account probe; writes ACCOUNT_CONFIG.json."""
    return not_available("probe-account", "the broker layer")


@guarded
def flatten(ctx: typer.Context) -> int:
    """Close every position with market orders."""
    return not_available("flatten", "the broker layer")


@guarded
def cancel_all(ctx: typer.Context) -> int:
    """Cancel every open order."""
    return not_available("cancel-all", "the broker layer")


@guarded
def rollback(ctx: typer.Context) -> int:
    """Emergency procedure: cancel all, detach, flatten, verify flat; writes ROLLBACK_REPORT.json."""
    return not_available("rollback", "the broker layer")
