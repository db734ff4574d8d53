"""A paper session's result → its artifacts (used by ``algotrade paper-session`` and gate 7).

:func:`build_paper_log`, :func:`build_metrics_rows` and :func:`build_latency_baseline` turn an
:class:`engine.planes.session.SessionResult` into the artifact models; :func:`write_session_artifacts`
validates and writes ``PAPER_TRADING_METRICS.csv``, ``PAPER_TRADING_LOG.json`` (which pins the
CSV by hash) and, when the session recorded one, ``LATENCY_BASELINE.json``.
:func:`read_baseline` loads an existing baseline as the figures the session compares with.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from artifacts.io import (
    ArtifactError,
    artifact_ref,
    read_artifact,
    write_artifact,
    write_csv_artifact,
)
from artifacts.models.backtest_report import BacktestReport
from artifacts.models.base import (
    ArtifactRef,
    KillSwitchEventRecord,
    mask_account_id,
    tool_version,
    utc_now,
)
from artifacts.models.latency_baseline import LatencyBaseline
from artifacts.models.paper_trading_log import (
    BaselineRef,
    FillRecord,
    OrderRecord,
    PaperSessionMeta,
    PaperSessionSummary,
    PaperTradingLog,
    StatusChange,
    TradeRecord,
)
from artifacts.models.paper_trading_metrics import PaperTradingMetricsRow

if TYPE_CHECKING:
    from engine.planes.order_plane import OrderLog
    from engine.planes.session import LatencyFigures, SessionResult


@dataclass(frozen=True)
class SessionArtifacts:
    log: Path
    metrics: Path
    baseline: Path | None
    log_sha256: str


def _finite(x: float | None) -> float | None:
    return x if x is not None and math.isfinite(x) else None


def _trade(o: OrderLog) -> TradeRecord:
    i = o.intent
    order: OrderRecord | None = None
    refused = o.risk_rejected
    if refused is None and o.order_id is None:
        refused = "not sent: the session ended before the order plane handled it"
    if refused is None and o.order_id is not None:
        submitted = o.submitted_at or (o.status_changes[0][0] if o.status_changes else i.timestamp)
        slippage = None
        if o.filled_quantity and i.decision_price:
            sign = 1.0 if i.direction == "BUY" else -1.0
            slippage = sign * (o.avg_fill_price - i.decision_price) / i.decision_price * 1e4
        order = OrderRecord(
            order_id=o.order_id,
            submitted_at=submitted,
            acknowledged_at=o.acknowledged_at,
            latency_ms=_finite(o.latency_ms),
            status_changes=tuple(
                StatusChange(at=at, status=st, filled_quantity=f, reason=r)
                for at, st, f, r in o.status_changes
            ),
            fills=tuple(
                FillRecord(
                    exec_id=e,
                    at=at,
                    quantity=q,
                    price=p,
                    commission=None if c is None else max(0.0, c),
                )
                for e, at, q, p, c in o.fills
            ),
            final_status=o.status or "SUBMITTED",
            filled_quantity=o.filled_quantity,
            avg_fill_price=o.avg_fill_price if o.filled_quantity else None,
            slippage_bps=slippage,
            commission=o.commission if o.fills else None,
        )
    return TradeRecord(
        intent_id=str(i.intent_id),
        created_at=i.timestamp,
        symbol=i.symbol,
        direction=i.direction,
        quantity=i.quantity,
        order_type=i.order_type,
        limit_price=i.limit_price,
        stop_price=i.stop_price,
        decision_price=i.decision_price,
        risk_rejected=refused,
        order=order,
    )


def build_metrics_rows(result: SessionResult) -> list[PaperTradingMetricsRow]:
    return [
        PaperTradingMetricsRow(
            timestamp=s.timestamp,
            pnl=s.pnl,
            pnl_fraction=s.pnl_fraction,
            drawdown=s.drawdown,
            psr=s.psr,
            orders=s.orders,
            fills=s.fills,
            fill_rate=s.fill_rate,
            latency_p50_ms=s.latency_p50_ms,
            latency_p95_ms=s.latency_p95_ms,
            latency_p99_ms=s.latency_p99_ms,
            pacing_violations=s.pacing_violations,
            gross_exposure=s.gross_exposure,
            kill_switch_state=s.kill_switch_state,
        )
        for s in result.samples
    ]


def build_paper_log(
    result: SessionResult,
    *,
    metrics_ref: ArtifactRef | None = None,
    baseline_ref: ArtifactRef | None = None,
    backtest_ref: ArtifactRef | None = None,
    generated_at: datetime | None = None,
) -> PaperTradingLog:
    started = result.started_at or utc_now()
    finished = max(result.finished_at or started, started)
    lat = result.latency()
    base = result.baseline
    events = tuple(
        KillSwitchEventRecord(
            at=datetime.fromisoformat(e.at), kind=e.kind,
            level="halt" if e.level == "HALT" else "warning",
            action=e.action or "NONE",
            value=e.value if math.isfinite(e.value) else 0.0,
            threshold=e.threshold, latched=e.level == "HALT", message=e.message,
        )
        for e in result.kill_switch_events
    )  # fmt: skip
    summary = PaperSessionSummary(
        intents=len(result.orders),
        orders_submitted=result.orders_submitted,
        orders_filled=result.orders_filled,
        orders_partially_filled=sum(
            1 for o in result.submitted if 0 < o.filled_quantity < o.intent.quantity
        ),
        orders_rejected=sum(1 for o in result.submitted if o.status == "REJECTED"),
        orders_cancelled=sum(1 for o in result.submitted if o.status == "CANCELED"),
        risk_rejections=sum(1 for o in result.orders if o.risk_rejected is not None),
        trades=result.trades,
        fills=result.fills,
        fill_rate=result.fill_rate,
        latency_p50_ms=lat.p50_ms if lat else None,
        latency_p95_ms=lat.p95_ms if lat else None,
        latency_p99_ms=lat.p99_ms if lat else None,
        baseline=(
            BaselineRef(
                p50_ms=base.p50_ms, p95_ms=base.p95_ms, p99_ms=base.p99_ms, source=baseline_ref
            )
            if base is not None
            else None
        ),
        latency_delta=_finite(result.latency_delta),
        latency_delta_basis=result.latency_delta_basis,
        pacing_violations=result.pacing_violations,
        pnl=result.pnl,
        max_drawdown=min(1.0, max(0.0, result.max_drawdown)),
        commissions=max(0.0, result.commissions),
        sharpe_paper=_finite(result.sharpe_paper),
        sharpe_backtest=_finite(result.sharpe_backtest),
        backtest_report=backtest_ref,
        psr=result.psr,
        dlq_counts=dict(result.dlq_counts),
        kill_switch_events=events,
        cost_coefficient=_finite(result.cost_coefficient),
    )
    meta = PaperSessionMeta(
        session_id=result.session_id,
        broker_kind=result.broker_kind,
        host=result.host,
        port=result.port,
        account_id_masked=mask_account_id(result.account_id) if result.account_id else None,
        trading_mode=result.trading_mode,
        started_at=started,
        finished_at=finished,
        duration_seconds=(finished - started).total_seconds(),
        wall_seconds=result.wall_seconds,
        clock_speed=result.speed,
        bar_seconds=result.bar_seconds,
        seed=result.seed,
        symbols=result.symbols,
        config_hash=result.config_hash,
        resumed=result.resumed,
        bus_backend=result.bus_backend,
        journal_path=result.journal_path,
    )
    warnings = list(result.warnings)
    if result.status != "completed":
        warnings.append(f"session ended: {result.message}")
    if result.recovered_fills:
        warnings.append(f"{result.recovered_fills} fill(s) recovered from the broker on resume")
    return PaperTradingLog(
        generated_at=generated_at or utc_now(),
        tool_version=tool_version(),
        session=meta,
        trades=tuple(_trade(o) for o in result.orders),
        summary=summary,
        metrics_file=metrics_ref,
        logs_dir=result.logs_dir,
        warnings=tuple(warnings),
    )


def build_latency_baseline(result: SessionResult, figures: LatencyFigures) -> LatencyBaseline:
    start = result.latency_started or result.started_at or utc_now()
    end = max(result.latency_finished or start, start)
    return LatencyBaseline(
        generated_at=utc_now(),
        tool_version=tool_version(),
        broker_kind="sim",
        measure="intent_to_ack",
        samples=figures.samples,
        p50_ms=figures.p50_ms,
        p95_ms=figures.p95_ms,
        p99_ms=figures.p99_ms,
        mean_ms=figures.mean_ms,
        max_ms=figures.max_ms,
        measured_from=start,
        measured_to=end,
        seed=result.seed,
        config_hash=result.config_hash,
        notes=(
            "intent published on the bus → broker acknowledgement, through the full order plane "
            "(pre-trade checks, pacing queue) against the simulated broker",
            f"session {result.session_id}, clock speed {result.speed:g}",
        ),
    )


def read_baseline(path: Path) -> LatencyFigures | None:
    """The baseline figures of ``LATENCY_BASELINE.json``, or ``None`` when the file is absent.

    Raises :class:`artifacts.io.ArtifactError` for a file that exists but is invalid.
    """
    from engine.planes.session import LatencyFigures

    if not path.is_file():
        return None
    b = read_artifact(path, LatencyBaseline)
    return LatencyFigures(b.samples, b.p50_ms, b.p95_ms, b.p99_ms, b.mean_ms, b.max_ms)


def read_backtest_sharpe(path: Path | None) -> tuple[float | None, ArtifactRef | None]:
    """``statistics.sharpe`` of a ``BACKTEST_REPORT.json`` and a pin of the file (or Nones)."""
    if path is None or not path.is_file():
        return None, None
    try:
        report = read_artifact(path, BacktestReport)
    except ArtifactError:
        return None, None
    return report.statistics.sharpe, artifact_ref(path)


def write_session_artifacts(
    result: SessionResult,
    out_dir: Path,
    *,
    backtest_ref: ArtifactRef | None = None,
    write_baseline: bool = False,
) -> SessionArtifacts:
    """Write the metrics CSV, the baseline (when asked and measured) and the log, all validated."""
    out_dir.mkdir(parents=True, exist_ok=True)
    metrics = write_csv_artifact(
        out_dir / PaperTradingMetricsRow.FILE_NAME, build_metrics_rows(result)
    )
    baseline_path: Path | None = None
    baseline_ref: ArtifactRef | None = None
    if write_baseline and result.baseline is not None:
        written = write_artifact(
            out_dir / LatencyBaseline.FILE_NAME, build_latency_baseline(result, result.baseline)
        )
        baseline_path = written.path
        baseline_ref = written.ref(out_dir)
    elif result.baseline is not None and (out_dir / LatencyBaseline.FILE_NAME).is_file():
        baseline_ref = artifact_ref(out_dir / LatencyBaseline.FILE_NAME, root=out_dir)
    log = build_paper_log(
        result, metrics_ref=metrics.ref(out_dir), baseline_ref=baseline_ref,
        backtest_ref=backtest_ref,
    )  # fmt: skip
    written_log = write_artifact(out_dir / PaperTradingLog.FILE_NAME, log)
    return SessionArtifacts(written_log.path, metrics.path, baseline_path, written_log.sha256)
