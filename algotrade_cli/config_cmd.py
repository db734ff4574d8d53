"""``algotrade config show``: the effective configuration, secrets masked."""

from __future__ import annotations

import typer

from algotrade_cli.context import get_state, guarded, print_json
from algotrade_cli.exit_codes import ExitCode

config_app = typer.Typer(no_args_is_help=True)


@config_app.command("show")
@guarded
def show(
    ctx: typer.Context,
    show_sensitive: bool = typer.Option(
        False, "--show-sensitive", help="Show account ids instead of masking them."
    ),
) -> int:
    """Print the effective config: defaults ← --config file ← ALGOTRADE_* variables."""
    state = get_state(ctx)
    cfg = state.config()
    data = cfg.masked_dict(show_sensitive=show_sensitive)
    if state.json_output:
        print_json(data)
    else:
        from algotrade_cli.render.config import render_config

        render_config(data, fingerprint=cfg.fingerprint())
    return int(ExitCode.OK)
