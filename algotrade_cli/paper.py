"""``algotrade paper-session``: the three planes against a paper broker, with the gate-7 artifacts.

Parse → :func:`engine.planes.session.run_paper_session` → write ``PAPER_TRADING_METRICS.csv``,
``PAPER_TRADING_LOG.json`` (and ``LATENCY_BASELINE.json`` with ``--record-baseline``) through
:mod:`gates.paper_artifacts` → render → exit code: 0 completed, 5 a kill switch tripped (or a
latched halt refused the start), 3 broker unreachable, 2 usage (e.g. nothing to ``--resume``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from algotrade_cli.context import eprint, get_state, guarded, print_json
from algotrade_cli.exit_codes import ExitCode

if TYPE_CHECKING:
    from engine.config import AppConfig
    from engine.planes.session import BrokerFactory, SessionResult

SIM_DEFAULT_SPEED = 360.0
"""With the simulated broker and no speed chosen: a 6-hour session in one minute."""


@guarded
def paper_session(
    ctx: typer.Context,
    broker: str = typer.Option(None, "--broker", help="sim (default, offline) or ib."),
    host: str = typer.Option(None, "--host", help="IB Gateway / TWS host (default: config)."),
    port: int = typer.Option(None, "--port", help="IB Gateway / TWS port (default: config)."),
    client_id: int = typer.Option(None, "--client-id", help="API client id (default: config)."),
    duration: float = typer.Option(
        None, "--duration", min=0.01, help="Session length in market hours (default: 6)."
    ),
    max_trades: int = typer.Option(
        None, "--max-trades", min=1, help="Most intents the strategy may send (default: 200)."
    ),
    speed: float = typer.Option(
        None,
        "--speed",
        min=0.001,
        help="Market-clock multiplier (sim default 360: 6 h in a minute; ib default 1).",
    ),
    resume: bool = typer.Option(False, "--resume", help="Continue the session in --out."),
    record_baseline: bool = typer.Option(
        False, "--record-baseline", help="sim: record LATENCY_BASELINE.json from this session."
    ),
    out: Path = typer.Option(None, "--out", help="Artifact directory (default: paths.prelive)."),
    baseline: Path = typer.Option(
        None, "--baseline", help="LATENCY_BASELINE.json to compare with (default: in --out)."
    ),
    backtest_report: Path = typer.Option(
        None, "--backtest-report", help="BACKTEST_REPORT.json for the Sharpe comparison."
    ),
    bus: str = typer.Option(None, "--bus", help="memory (embedded, default) or kafka."),
    kafka_bootstrap: str = typer.Option(
        None, "--kafka-bootstrap", help="Kafka bootstrap servers (default: bus.kafka_bootstrap)."
    ),
    json_out: bool = typer.Option(False, "--json", help="Machine-readable summary on stdout."),
) -> int:
    """Run data, strategy and order planes on the bus; writes PAPER_TRADING_LOG.json."""
    from algotrade_cli.plane import bus_overrides
    from artifacts.io import ArtifactError
    from engine.planes.session import run_paper_session
    from gates.paper_artifacts import read_backtest_sharpe, read_baseline, write_session_artifacts

    state = get_state(ctx)
    cfg = bus_overrides(state.config(), bus, kafka_bootstrap)
    kind = broker or cfg.broker.kind
    if kind not in ("sim", "ib"):
        eprint(f"error: --broker {kind!r} is not a broker; use sim or ib")
        return int(ExitCode.USAGE)
    if record_baseline and kind != "sim":
        eprint("error: --record-baseline measures the mock baseline: use it with --broker sim")
        return int(ExitCode.USAGE)
    out_dir = Path(out) if out is not None else Path(cfg.paths.prelive)
    chosen_speed = speed or (
        cfg.session.speed if cfg.session.speed != 1.0 or kind == "ib" else SIM_DEFAULT_SPEED
    )
    base_path = Path(baseline) if baseline is not None else out_dir / "LATENCY_BASELINE.json"
    try:
        base = None if record_baseline else read_baseline(base_path)
    except ArtifactError as exc:
        eprint(f"error: {base_path} is not a valid latency baseline: {exc}")
        return int(ExitCode.USAGE)
    bt_path = _backtest_path(backtest_report, out_dir, cfg)
    sharpe_bt, bt_ref = read_backtest_sharpe(bt_path)
    factory, where = _factory(cfg, kind, host, port, client_id)
    dashboard = None
    from algotrade_cli.render import live_allowed

    if live_allowed() and not (json_out or state.json_output):
        from algotrade_cli.render.paper import SessionDashboard

        dashboard = SessionDashboard()
    elif not (json_out or state.json_output):
        eprint(
            f"paper session: broker {kind}{where}, speed {chosen_speed:g}×, "
            f"out {out_dir}{' (resume)' if resume else ''}"
        )
    try:
        if dashboard is not None:
            dashboard.start()
        result = run_paper_session(
            cfg, out_dir=out_dir, broker_factory=factory, speed=chosen_speed,
            duration_hours=duration, max_trades=max_trades, resume=resume,
            record_baseline=record_baseline, baseline=base, sharpe_backtest=sharpe_bt,
            progress=dashboard.update if dashboard is not None else None, broker_kind=kind,
            host=where and (host or cfg.broker.host), port=(port or cfg.broker.port) if where else None,
        )  # fmt: skip
    finally:
        if dashboard is not None:
            dashboard.stop()
    if result.status == "refused" and resume and not result.session_id:
        eprint(f"error: {result.message}")
        return int(ExitCode.USAGE)
    if result.status in ("unreachable", "refused") and not result.orders:
        eprint(f"error: {result.message}")
        return result.exit_code
    written = write_session_artifacts(
        result, out_dir, backtest_ref=bt_ref, write_baseline=record_baseline
    )
    payload = summary_payload(result, written.log, written.metrics, written.baseline)
    if json_out or state.json_output:
        print_json(payload)
    else:
        from algotrade_cli.render.paper import render_summary

        render_summary(payload)
    return result.exit_code


def _backtest_path(given: Path | None, out_dir: Path, cfg: AppConfig) -> Path | None:
    if given is not None:
        return Path(given)
    for candidate in (
        out_dir / "BACKTEST_REPORT.json",
        Path(cfg.paths.out) / "BACKTEST_REPORT.json",
    ):
        if candidate.is_file():
            return candidate
    return None


def _factory(
    cfg: AppConfig, kind: str, host: str | None, port: int | None, client_id: int | None
) -> tuple[BrokerFactory | None, str]:
    if kind == "sim":
        return None, ""
    from engine.broker.factory import make_broker, resolve_target

    target = resolve_target(
        cfg.broker, kind="ib", host=host, port=port, client_id=client_id, readonly=False
    )

    def factory(_prices: Any, _session_dir: Path) -> Any:
        return make_broker(
            target, cfg.pacing, reconnect_max_backoff=cfg.broker.reconnect_max_backoff
        )

    return factory, f" at {target.host}:{target.port}"


def summary_payload(
    result: SessionResult, log: Path, metrics: Path, baseline: Path | None
) -> dict[str, Any]:
    """The session's summary as plain data (``--json`` output and the rendered table)."""
    lat = result.latency()
    base = result.baseline
    return {
        "status": result.status,
        "message": result.message,
        "session_id": result.session_id,
        "broker": result.broker_kind,
        "resumed": result.resumed,
        "wall_seconds": round(result.wall_seconds, 3),
        "speed": result.speed,
        "intents": len(result.orders),
        "orders": result.orders_submitted,
        "trades": result.trades,
        "fills": result.fills,
        "fill_rate": result.fill_rate,
        "risk_rejections": sum(1 for o in result.orders if o.risk_rejected is not None),
        "latency_ms": None if lat is None else {"p50": lat.p50_ms, "p95": lat.p95_ms,
                                                 "p99": lat.p99_ms, "samples": lat.samples},
        "baseline_ms": None if base is None else {"p50": base.p50_ms, "p95": base.p95_ms,
                                                   "p99": base.p99_ms},
        "latency_delta": result.latency_delta,
        "pacing_violations": result.pacing_violations,
        "pnl": round(result.pnl, 2),
        "max_drawdown": result.max_drawdown,
        "sharpe_paper": result.sharpe_paper,
        "sharpe_backtest": result.sharpe_backtest,
        "psr": result.psr,
        "cost_coefficient": result.cost_coefficient,
        "dlq": result.dlq_counts,
        "kill_switch": [e.message for e in result.kill_switch_events if e.level == "HALT"],
        "recovered_fills": result.recovered_fills,
        "artifacts": {
            "log": str(log),
            "metrics": str(metrics),
            "baseline": str(baseline) if baseline else None,
        },
        "warnings": list(result.warnings),
    }  # fmt: skip
