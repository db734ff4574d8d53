"""``algotrade gate run|list|status`` and ``algotrade go-live``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from algotrade_cli.context import eprint, get_state, guarded, print_json
from algotrade_cli.exit_codes import ExitCode

if TYPE_CHECKING:
    from gates.base import GateContext, GateOptions
    from gates.runner import RunReport

gate_app = typer.Typer(no_args_is_help=True)

OUT_OPT = typer.Option(None, "--out", help="Artifact directory (default: paths.prelive).")
BROKER_OPT = typer.Option(None, "--broker", help="sim (default from config) or ib.")
HOST_OPT = typer.Option(None, "--host", help="ib: TWS / IB Gateway host.")
PORT_OPT = typer.Option(None, "--port", help="ib: gateway port (4002 paper gateway).")
CLIENT_OPT = typer.Option(None, "--client-id", help="ib: API client id.")


def _context(
    ctx: typer.Context, out: Path | None, options: GateOptions
) -> tuple[GateContext, Path]:
    from datetime import UTC, datetime

    from engine.data.assets import REPO_ROOT
    from gates.base import GateContext

    state = get_state(ctx)
    config = state.config()
    target = Path(out or config.paths.prelive)
    source = str(state.config_path) if state.config_path else "the effective config"
    gctx = GateContext(
        config=config,
        out_dir=target,
        repo_root=REPO_ROOT,
        clock=lambda: datetime.now(UTC),
        environ=state.environ,
        options=options,
        config_source=source,
    )
    return gctx, target


def _command_help() -> dict[str, str]:
    """The real commands' help texts (ROLLBACK_PROCEDURE.md is generated from them)."""
    import typer.main

    from algotrade_cli.app import app

    group: Any = typer.main.get_command(app)
    return {name: cmd.help or "" for name, cmd in group.commands.items()}


def _quiet_ib_async(ctx: typer.Context) -> None:
    """ib_async logs every broker error to stderr; the gates record them as evidence instead
    (``--verbose`` keeps the log)."""
    import logging

    if get_state(ctx).verbosity <= 0:
        logging.getLogger("ib_async").setLevel(logging.CRITICAL)


def _options(**kwargs: Any) -> GateOptions:
    from gates.base import GateOptions

    if kwargs.get("broker") not in (None, "sim", "ib"):
        raise typer.BadParameter(f"--broker {kwargs['broker']!r}: use sim or ib")
    return GateOptions(command_help=_command_help(), **kwargs)


@gate_app.command("run")
@guarded
def run(
    ctx: typer.Context,
    gates: str = typer.Argument("1-8", help="Which gates: 1-8, 6, 3-5, 1,3,5 or all."),
    out: Path | None = OUT_OPT,
    keep_going: bool = typer.Option(False, "--keep-going", help="Run the rest after a failure."),
    coverage_report: Path | None = typer.Option(
        None, "--coverage-report", help="Gate 1: coverage.py JSON or Cobertura XML report."
    ),
    run_coverage: bool = typer.Option(
        False, "--run-coverage", help="Gate 1: run the whole test suite with coverage first."
    ),
    broker: str | None = BROKER_OPT,
    host: str | None = HOST_OPT,
    port: int | None = PORT_OPT,
    client_id: int | None = CLIENT_OPT,
    session_speed: float | None = typer.Option(
        None, "--session-speed", min=0.001, help="Gate 7: paper-session clock multiplier."
    ),
    session_hours: float | None = typer.Option(
        None, "--session-hours", min=0.001, help="Gate 7: paper-session length (session clock)."
    ),
    no_session: bool = typer.Option(
        False, "--no-session", help="Gate 7: judge the session artifacts already in --out."
    ),
) -> int:
    """Run gates in order; stop at the first failure (exit 0 all passed, 1 a gate failed, 2 bad
    range). Progress goes to stderr; each result is appended to PRELIVE_VERIFICATION_LOG.json."""
    from gates.runner import resolve, run_gates
    from gates.selection import GateSelectionError

    try:
        numbers = resolve(gates)
    except GateSelectionError as exc:
        eprint(f"error: {exc}")
        return int(ExitCode.USAGE)
    options = _options(
        coverage_report=coverage_report, run_coverage=run_coverage, broker=broker, host=host,
        port=port, client_id=client_id, session_speed=session_speed, session_hours=session_hours,
        run_session=False if no_session else None,
    )  # fmt: skip
    gctx, target = _context(ctx, out, options)
    state = get_state(ctx)
    _quiet_ib_async(ctx)
    from algotrade_cli.render import gate as render

    progress = render.Progress(quiet=state.verbosity < 0)
    report = run_gates(numbers, gctx, keep_going=keep_going, progress=progress)
    if state.json_output:
        print_json(run_json(report, target))
    else:
        render.run_summary(report, target)
    return int(ExitCode.OK if report.passed else ExitCode.FAILED)


def run_json(report: RunReport, out: Path) -> dict[str, Any]:
    return {
        "run_id": report.run_id,
        "passed": report.passed,
        "out": str(out),
        "log": report.log.model_dump(mode="json") if report.log else None,
        "gates": [
            {
                "number": r.number,
                "name": r.name,
                "verdict": r.verdict,
                "seconds": round(r.seconds, 3),
                "thresholds": dict(r.thresholds),
                "evidence": [e.model_dump(mode="json") for e in r.evidence],
                "artifacts": [a.model_dump(mode="json") for a in r.artifacts],
                "error": r.error,
            }
            for r in report.results
        ],
        "skipped": list(report.skipped),
        "stopped_at": report.stopped_at,
    }


@gate_app.command("list")
@guarded
def list_gates(ctx: typer.Context) -> int:
    """List the gates: what passes, inputs (and which gate produces them), outputs, thresholds."""
    from gates.registry import all_gates

    state = get_state(ctx)
    config = state.config()
    rows = [
        {
            "number": g.number,
            "name": g.name,
            "passes_when": g.summary,
            "inputs": [
                {"name": i.name, "produced_by": i.produced_by, "description": i.description}
                for i in g.inputs
            ],
            "outputs": list(g.outputs),
            "thresholds": g.thresholds(config),
        }
        for g in all_gates()
    ]
    if state.json_output:
        print_json({"gates": rows})
    else:
        from algotrade_cli.render import gate as render

        render.gate_list(rows)
    return int(ExitCode.OK)


@gate_app.command("status")
@guarded
def status(ctx: typer.Context, out: Path | None = OUT_OPT) -> int:
    """Latest verdict of every gate from PRELIVE_VERIFICATION_LOG.json (exit 0 only when all 8
    passed)."""
    from gates.registry import all_gates
    from gates.verification_log import LOG_FILE, changed_files, load_log

    state = get_state(ctx)
    target = Path(out or state.config().paths.prelive)
    log = load_log(target)
    rows = []
    for g in all_gates():
        entry = log.latest(g.number) if log else None
        changed = changed_files((*entry.artifacts, *entry.inputs), target) if entry else []
        rows.append(
            {
                "number": g.number,
                "name": g.name,
                "verdict": entry.verdict if entry else "MISSING",
                "finished_at": entry.finished_at.isoformat() if entry else None,
                "seconds": round(entry.duration_seconds, 3) if entry else None,
                "message": entry.message if entry else None,
                "changed_files": changed,
            }
        )
    ok = all(r["verdict"] == "PASS" and not r["changed_files"] for r in rows)
    if state.json_output:
        print_json({"log": str(target / LOG_FILE), "exists": log is not None, "all_passed": ok,
                    "gates": rows})  # fmt: skip
    else:
        from algotrade_cli.render import gate as render

        if log is None:
            eprint(f"no verification log at {target / LOG_FILE}; run `algotrade gate run 1-8`")
        render.status(rows)
    return int(ExitCode.OK if ok else ExitCode.FAILED)


@guarded
def go_live(
    ctx: typer.Context,
    out: Path | None = OUT_OPT,
    broker: str | None = BROKER_OPT,
    host: str | None = HOST_OPT,
    port: int | None = PORT_OPT,
    client_id: int | None = CLIENT_OPT,
) -> int:
    """Gate 8: the go-live decision (drills, sign-offs, gates 1–7 unchanged), printed in full.

    Exit 0 GO, 1 NO-GO. Writes GO_LIVE_DECISION_GATE.md and ROLLBACK_PROCEDURE.md.
    """
    from artifacts.io import read_markdown_artifact
    from artifacts.models.go_live_decision import GoLiveDecision
    from gates.runner import run_gates

    options = _options(broker=broker, host=host, port=port, client_id=client_id)
    gctx, target = _context(ctx, out, options)
    state = get_state(ctx)
    _quiet_ib_async(ctx)
    from algotrade_cli.render import gate as render

    report = run_gates([8], gctx, progress=render.Progress(quiet=state.verbosity < 0))
    path = target / GoLiveDecision.FILE_NAME
    result = report.results[0]
    if result.verdict == "ERROR" or not path.is_file():
        eprint(f"go-live: gate 8 could not decide: {result.error}")
        return int(ExitCode.FAILED)
    decision, _ = read_markdown_artifact(path, GoLiveDecision)
    if state.json_output:
        print_json({"decision": decision.model_dump(mode="json"), "artifact": str(path)})
    else:
        render.decision(decision, path)
    return int(ExitCode.OK if decision.decision == "GO" else ExitCode.FAILED)
