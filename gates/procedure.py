"""``ROLLBACK_PROCEDURE.md`` generated from the real commands (their ``--help`` text, passed in
by the CLI) and the rollback core's own steps (SPEC §7)."""

from __future__ import annotations

from collections.abc import Mapping

from artifacts.models.base import ArtifactRef, tool_version
from artifacts.models.rollback_procedure import ProcedureStep, RollbackProcedure
from gates.base import GateContext


def _first_line(text: str | None) -> str:
    for line in (text or "").strip().splitlines():
        if line.strip():
            return line.strip()
    return ""


def _purpose(help_texts: Mapping[str, str], command: str, fallback: object) -> str:
    return _first_line(help_texts.get(command)) or _first_line(getattr(fallback, "__doc__", ""))


def rollback_procedure(
    ctx: GateContext, *, last_drill_seconds: float | None, drill_report: ArtifactRef | None
) -> RollbackProcedure:
    from engine.broker import operations as ops

    help_texts = ctx.options.command_help
    target = ctx.config.gates.rollback_target_seconds
    state = ctx.config.paths.state
    halt = f"{state}/{ops.HaltFlag.FILE_NAME}"
    steps = (
        ProcedureStep(
            number=1, name="STOP", command="algotrade cancel-all --yes",
            purpose=_purpose(help_texts, "cancel-all", ops.cancel_all_orders),
            done_when="the broker reports zero open orders", timeout_seconds=target / 4,
        ),
        ProcedureStep(
            number=2, name="DISCONNECT", command=None,
            purpose=f"Detach the strategy: the HALT flag {halt} is persisted (by `algotrade "
            "rollback`); every process that sends intents checks it first.",
            done_when=f"{halt} exists and says halted",
        ),
        ProcedureStep(
            number=3, name="FLATTEN", command="algotrade flatten --yes",
            purpose=_purpose(help_texts, "flatten", ops.flatten_positions),
            done_when="the broker reports zero positions", timeout_seconds=target / 2,
        ),
        ProcedureStep(
            number=4, name="VERIFY", command="algotrade probe-account",
            purpose=_purpose(help_texts, "probe-account", ops.probe_account),
            done_when="open orders 0 and positions 0 in ACCOUNT_CONFIG.json",
        ),
        ProcedureStep(
            number=5, name="INVESTIGATE", command=None,
            purpose=f"Read the logs ({ctx.config.paths.logs}) and the dead-letter topics "
            "(dlq_market_events, dlq_order_intents, dlq_execution_reports).",
            done_when="the cause is understood",
        ),
        ProcedureStep(
            number=6, name="REPORT", command=None,
            purpose="Attach ROLLBACK_REPORT.json (what was cancelled and closed, P&L, timings) "
            "to the incident record.",
            done_when="the incident record is filed",
        ),
        ProcedureStep(
            number=7, name="FIX", command=None,
            purpose=f"Fix the cause, then delete the HALT flag {halt} explicitly; a kill-switch "
            "latch is reset only by a named person with a reason.",
            done_when="the fix is reviewed and the HALT flag is cleared",
        ),
    )  # fmt: skip
    return RollbackProcedure(
        generated_at=ctx.clock(),
        tool_version=tool_version(),
        steps=steps,
        one_command="algotrade rollback --yes   # "
        + (_first_line(help_texts.get("rollback")) or _first_line(ops.rollback.__doc__)),
        target_seconds=target,
        last_drill_seconds=last_drill_seconds,
        drill_report=drill_report,
        logs_dir=str(ctx.config.paths.logs),
        dlq_location="dlq_market_events, dlq_order_intents, dlq_execution_reports",
    )
