"""Gate 7 — paper trading: run the paper session (or read its artifacts) and judge it.

With the planes' ``run_paper_session`` available the gate runs the session itself (against the
simulated broker on an accelerated clock by default, or ``--broker ib`` against a gateway) and
the session writes ``PAPER_TRADING_LOG.json``, ``PAPER_TRADING_METRICS.csv`` and
``LATENCY_BASELINE.json`` into the output directory. Otherwise it judges the artifacts a previous
``algotrade paper-session --out DIR`` left there. The judgement is :func:`judge_paper`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from artifacts.io import ArtifactError, read_artifact, read_csv_artifact, sha256_file
from artifacts.models.backtest_report import BacktestReport
from artifacts.models.base import ArtifactRef, Evidence, Scalar
from artifacts.models.latency_baseline import LatencyBaseline
from artifacts.models.paper_trading_log import PaperTradingLog
from artifacts.models.paper_trading_metrics import PaperTradingMetricsRow
from gates.base import GateContext, GateInput, GateResult, check, verdict
from gates.output import pin
from gates.paper_judge import judge_paper

if TYPE_CHECKING:
    from engine.config import AppConfig

LOG = PaperTradingLog.FILE_NAME
METRICS = PaperTradingMetricsRow.FILE_NAME
BASELINE = LatencyBaseline.FILE_NAME
BACKTEST = BacktestReport.FILE_NAME
SessionRunner = Callable[[GateContext], str]


@dataclass(frozen=True)
class PaperTradingGate:
    number: int = 7
    name: str = "Paper trading"
    summary: str = (
        "latency_delta < 50% vs the mock baseline AND pacing_violations == 0 AND fill_rate > 98% "
        "AND sharpe_paper ≥ 0.5 × sharpe_backtest, on at least min_trades trades"
    )
    inputs: tuple[GateInput, ...] = (
        GateInput("ACCOUNT_CONFIG.json", "the probed paper account", 6),
        GateInput(BACKTEST, "sharpe_backtest (algotrade backtest)"),
        GateInput("paper session", "algotrade paper-session (run by the gate when available)"),
    )
    outputs: tuple[str, ...] = (LOG, METRICS, BASELINE)

    def thresholds(self, config: AppConfig) -> dict[str, Scalar]:
        g = config.gates
        return {
            "latency_delta_max": g.latency_delta_max,
            "pacing_violations_max": g.pacing_violations_max,
            "fill_rate_min": g.fill_rate_min,
            "sharpe_ratio_min": g.sharpe_ratio_min,
            "min_trades": g.min_trades,
        }

    def run(self, ctx: GateContext) -> GateResult:
        started = ctx.clock()
        runner = None
        if ctx.options.run_session is not False:
            runner = ctx.options.paper_session or planes_session_runner()
        if ctx.options.run_session and runner is None:
            return verdict(self, ctx, started, [
                check("paper session ran", "unavailable", "completed", False,
                      "this installation has no paper-session core (engine.planes.session); "
                      "run `algotrade paper-session` and judge its artifacts with --no-session"),
            ])  # fmt: skip
        notes: list[Evidence] = []
        if runner is not None:
            ran = _run_session(ctx, runner)
            if not ran.passed:  # never judge an older session's files instead
                return verdict(self, ctx, started, [ran])
            notes.append(ran)
        log_path = ctx.out_dir / LOG
        if not log_path.is_file():
            evidence = [
                *notes,
                check("paper session artifacts exist", "missing", LOG, False,
                      "no paper session artifacts; run `algotrade paper-session` "
                      f"(with --out {ctx.out_dir}) and run gate 7 again"),
            ]  # fmt: skip
            return verdict(self, ctx, started, evidence)
        try:
            log = read_artifact(log_path, PaperTradingLog)
        except ArtifactError as exc:
            evidence = [*notes, check(f"{LOG} valid", "invalid", "valid", False, str(exc)[:500])]
            return verdict(self, ctx, started, evidence, [pin(ctx, log_path)])
        artifacts = [pin(ctx, log_path)]
        evidence = [*notes, *_metrics_evidence(ctx, artifacts)]
        if (ctx.out_dir / BASELINE).is_file():
            artifacts.append(pin(ctx, ctx.out_dir / BASELINE))
        backtest, backtest_path, bt_evidence = _backtest(ctx, log)
        evidence += bt_evidence
        evidence += [
            check("session ran on a paper account", log.session.trading_mode, "paper",
                  log.session.trading_mode == "paper", "gate 7 only accepts a paper session"),
        ]  # fmt: skip
        halts = [e for e in log.summary.kill_switch_events if e.level == "halt"]
        evidence.append(
            check("no kill-switch halt during the session", len(halts), 0, not halts,
                  "; ".join(e.message for e in halts) + " — investigate before going live")
        )  # fmt: skip
        evidence += judge_paper(log, ctx.config.gates, backtest=backtest)
        inputs = [
            p for p in (backtest_path, ctx.out_dir / "ACCOUNT_CONFIG.json") if p and p.is_file()
        ]
        return verdict(
            self, ctx, started, evidence, artifacts, inputs=inputs,
            details={"summary": log.summary.model_dump(mode="json")},
        )  # fmt: skip


def _metrics_evidence(ctx: GateContext, artifacts: list[ArtifactRef]) -> list[Evidence]:
    path = ctx.out_dir / METRICS
    if not path.is_file():
        return [check(f"{METRICS} written", "missing", METRICS, False,
                      "the paper session must write its metrics file next to the log")]  # fmt: skip
    artifacts.append(pin(ctx, path))
    try:
        rows = read_csv_artifact(path, PaperTradingMetricsRow)
    except ArtifactError as exc:
        return [check(f"{METRICS} valid", "invalid", "valid", False, str(exc)[:500])]
    return [check(f"{METRICS} valid", len(rows), "≥ 1 row", bool(rows),
                  "the session wrote no metrics samples")]  # fmt: skip


def _backtest(
    ctx: GateContext, log: PaperTradingLog
) -> tuple[BacktestReport | None, Path | None, list[Evidence]]:
    candidates: list[Path] = []
    ref = log.summary.backtest_report
    if ref is not None:
        p = Path(ref.path)
        candidates.append(p if p.is_absolute() else ctx.out_dir / p)
        candidates.append(ctx.repo_root / p)
    candidates += [ctx.out_dir / BACKTEST, Path(ctx.config.paths.out) / BACKTEST]
    for path in candidates:
        if not path.is_file():
            continue
        if ref is not None and path.name == ref.name and sha256_file(path) != ref.sha256:
            return None, path, [
                check(f"{BACKTEST} unchanged since the session", "changed", ref.sha256[:12],
                      False, f"{path} changed after the paper session read it; run the session "
                      "again")
            ]  # fmt: skip
        try:
            return read_artifact(path, BacktestReport), path, []
        except ArtifactError as exc:
            return None, path, [check(f"{BACKTEST} valid", "invalid", "valid", False, str(exc))]
    return None, None, []


def planes_session_runner() -> SessionRunner | None:
    """The planes' paper-session core adapted to the gate, when that package provides it."""
    import importlib

    try:
        module = importlib.import_module("engine.planes.session")
    except ImportError:
        return None
    core = getattr(module, "run_paper_session", None)
    if core is None:
        return None
    from gates.paper_session import planes_runner

    return planes_runner(core)


def _run_session(ctx: GateContext, runner: SessionRunner) -> Evidence:
    """Run the session; it writes its artifacts into ``out_dir``. The evidence says it ran."""
    from gates.paper_session import SessionNotRun

    try:
        note = runner(ctx)
    except SessionNotRun as exc:
        return check("paper session ran", str(exc), "completed", False,
                     "start the gateway (check --host/--port), or review and reset the "
                     "kill-switch latch / HALT flag the message names, then run gate 7 again")  # fmt: skip
    return check("paper session ran", note, "completed", True)
