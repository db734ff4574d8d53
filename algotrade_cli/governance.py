"""``algotrade governance sign|status``: named sign-offs bound to hashes."""

from __future__ import annotations

from pathlib import Path

import typer

from algotrade_cli.context import eprint, get_state, guarded, print_json
from algotrade_cli.exit_codes import ExitCode

governance_app = typer.Typer(no_args_is_help=True)

_DIR_HELP = (
    "Directory of the pre-live artifacts and GOVERNANCE_SIGNOFFS.json (default: paths.prelive)."
)


@governance_app.command("sign")
@guarded
def sign(
    ctx: typer.Context,
    role: str = typer.Option(..., "--role", help="risk_officer, cto or lead_trader."),
    name: str = typer.Option(..., "--name", help="Who signs."),
    artifact: list[Path] = typer.Option(
        [], "--artifact", "-a", help="An artifact this sign-off covers (repeatable)."
    ),
    statement: str = typer.Option("", "--statement", help="What the signer attests."),
    directory: Path | None = typer.Option(None, "--dir", help=_DIR_HELP),
) -> int:
    """Record a sign-off for a role, bound to the SHA-256 of the config, strategy and artifacts."""
    from datetime import UTC, datetime

    from gates.governance import GovernanceError, config_hash
    from gates.governance import sign as record

    state = get_state(ctx)
    config = state.config()
    target = directory or config.paths.prelive
    try:
        signoff = record(
            target,
            role=role,
            name=name,
            config=config,
            clock=lambda: datetime.now(UTC),
            artifacts=tuple(artifact),
            statement=statement,
        )
    except GovernanceError as exc:
        eprint(f"error: {exc}")
        return int(ExitCode.USAGE)
    if state.json_output:
        print_json(signoff.model_dump(mode="json"))
    elif state.verbosity >= 0:
        eprint(
            f"signed: {signoff.role} by {signoff.name} (config {config_hash(config)[:12]}…, "
            f"{len(signoff.bound.artifacts)} artifact(s)) → {target / 'GOVERNANCE_SIGNOFFS.json'}"
        )
    return int(ExitCode.OK)


@governance_app.command("status")
@guarded
def status(
    ctx: typer.Context,
    directory: Path | None = typer.Option(None, "--dir", help=_DIR_HELP),
) -> int:
    """Who signed what, and whether it still counts. Exit 1 if any required sign-off is missing or stale."""
    from gates.governance import check_signoffs

    state = get_state(ctx)
    config = state.config()
    target = directory or config.paths.prelive
    source = str(state.config_path) if state.config_path else "the effective config"
    states = check_signoffs(target, config, config_source=source)
    if state.json_output:
        print_json(
            {
                "directory": str(target),
                "all_valid": all(s.valid for s in states),
                "signoffs": [
                    {
                        "role": s.role,
                        "name": s.signoff.name if s.signoff else None,
                        "signed_at": s.signoff.signed_at.isoformat() if s.signoff else None,
                        "valid": s.valid,
                        "reason": s.reason,
                    }
                    for s in states
                ],
            }
        )
    else:
        from algotrade_cli.render.governance import render_status

        render_status(states)
    return int(ExitCode.OK if all(s.valid for s in states) else ExitCode.FAILED)
