"""The Typer application: global options and the full command surface.

Each command lives in its own module and imports its heavy dependencies inside the function, so
``algotrade --help`` stays fast (a test asserts cvxpy, pandas, numpy and ib_async stay unimported).
"""

from __future__ import annotations

from pathlib import Path

import typer

from algotrade_cli import (
    backtest,
    broker_cmds,
    config_cmd,
    gate,
    governance,
    paper,
    plane,
    schemas,
    simgateway,
    validate,
)
from algotrade_cli.context import get_state
from algotrade_cli.exit_codes import EXIT_CODES_HELP

app = typer.Typer(
    name="algotrade",
    help=(
        "From backtest to live trading on Interactive Brokers through an 8-stage pre-live gate "
        "framework. Offline by default: a simulated market, broker and IB gateway are built in.\n\n"
        + EXIT_CODES_HELP
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        from algotrade_cli import __version__

        typer.echo(f"algotrade {__version__}")
        raise typer.Exit(0)


@app.callback()
def main(
    ctx: typer.Context,
    config: Path | None = typer.Option(
        None,
        "--config",
        "-c",
        help="YAML config file (overrides the built-in defaults).",
        envvar="ALGOTRADE_CONFIG",
        dir_okay=False,
    ),
    json_output: bool = typer.Option(
        False, "--json", help="Machine-readable JSON on stdout; logs and progress go to stderr."
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only errors and the result."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="More detail, tracebacks."),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    state = get_state(ctx)
    state.config_path = config
    state.json_output = json_output
    state.verbosity = -1 if quiet else (1 if verbose else 0)


app.command("backtest")(backtest.backtest)
app.command("validate-message")(validate.validate_message)
app.command("probe-account")(broker_cmds.probe_account)
app.command("flatten")(broker_cmds.flatten)
app.command("cancel-all")(broker_cmds.cancel_all)
app.command("rollback")(broker_cmds.rollback)
app.command("paper-session")(paper.paper_session)
app.command("plane")(plane.plane)
app.command("go-live")(gate.go_live)
app.command("sim-gateway")(simgateway.sim_gateway)
app.add_typer(gate.gate_app, name="gate", help="Run and inspect the eight pre-live gates.")
app.add_typer(schemas.schemas_app, name="schemas", help="Export and check JSON Schemas.")
app.add_typer(config_cmd.config_app, name="config", help="Inspect the effective configuration.")
app.add_typer(governance.governance_app, name="governance", help="Governance sign-offs.")
