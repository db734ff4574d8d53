"""``algotrade plane data|strategy|order``: one plane of a paper session as a long-lived service.

The three planes of ``algotrade paper-session`` can run as three processes (or on three hosts)
over Kafka (:mod:`engine.planes.services`): start each with the same ``--session-id`` and config.
The order plane owns the broker and writes the gate-7 artifacts (``PAPER_TRADING_LOG.json``,
``PAPER_TRADING_METRICS.csv``) into ``--out`` when the session ends. Each plane serves
``/health``, ``/ready`` and ``/metrics`` (``session.metrics_port`` + 1/2/3 by default; 0 = off).
SIGINT/SIGTERM stop a plane gracefully (offsets of what it processed are committed); started
again with the same session id it resumes where it stopped.

Exit codes: 0 completed, 5 kill switch (order plane), 3 broker unreachable, 2 usage (e.g. the
embedded bus, which cannot span processes), 130 stopped by a signal, 1 failed.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from algotrade_cli.context import eprint, get_state, guarded, print_json
from algotrade_cli.exit_codes import ExitCode

if TYPE_CHECKING:
    from engine.config import AppConfig

PLANE_NAMES = ("data", "strategy", "order")


def bus_overrides(cfg: AppConfig, bus: str | None, bootstrap: str | None) -> AppConfig:
    """``--bus``/``--kafka-bootstrap`` applied to the config (a usage error names the fix)."""
    from engine.config import ConfigError

    overrides: dict[str, Any] = {}
    if bus is not None:
        if bus not in ("memory", "kafka"):
            raise ConfigError(f"--bus {bus!r} is not a bus; use memory or kafka")
        overrides["bus.backend"] = bus
    if bootstrap is not None:
        overrides["bus.kafka_bootstrap"] = bootstrap
    return cfg.with_overrides(overrides) if overrides else cfg


@guarded
def plane(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="data, strategy or order.", metavar="PLANE"),
    session_id: str = typer.Option(
        ..., "--session-id", help="The session's id: the same for the three planes."
    ),
    bus: str = typer.Option(None, "--bus", help="kafka (the planes share it) — default: config."),
    kafka_bootstrap: str = typer.Option(
        None, "--kafka-bootstrap", help="Kafka bootstrap servers (default: bus.kafka_bootstrap)."
    ),
    broker: str = typer.Option(
        None, "--broker", help="order/data plane: sim (default) or ib (data: quotes from IB)."
    ),
    host: str = typer.Option(None, "--host", help="order/data plane: IB Gateway / TWS host."),
    port: int = typer.Option(None, "--port", help="order/data plane: IB Gateway / TWS port."),
    client_id: int = typer.Option(
        None, "--client-id", help="API client id (default: broker.client_id; data plane + 1)."
    ),
    duration: float = typer.Option(
        None, "--duration", min=0.01, help="Session length in market hours (default: 6)."
    ),
    max_trades: int = typer.Option(
        None, "--max-trades", min=1, help="strategy plane: most intents it may send."
    ),
    speed: float = typer.Option(
        None, "--speed", min=0.001, help="Market-clock multiplier (sim default 360)."
    ),
    out: Path = typer.Option(None, "--out", help="Artifact directory (default: paths.prelive)."),
    metrics_port: int = typer.Option(
        None,
        "--metrics-port",
        min=0,
        max=65535,
        help="/health, /ready, /metrics port (default: session.metrics_port + 1/2/3; 0 = off).",
    ),
    wait: float = typer.Option(
        None, "--wait", min=0.1, help="Seconds to wait for another plane (default: no limit)."
    ),
    record_baseline: bool = typer.Option(
        False, "--record-baseline", help="order plane, sim: record LATENCY_BASELINE.json."
    ),
    backtest_report: Path = typer.Option(
        None, "--backtest-report", help="order plane: BACKTEST_REPORT.json for the Sharpe check."
    ),
    json_out: bool = typer.Option(False, "--json", help="Machine-readable summary on stdout."),
) -> int:
    """Run one plane of a paper session as a service (the three share a Kafka bus)."""
    from dataclasses import replace

    from engine.planes.services import DEFAULT_PORT_OFFSET, ServiceOptions, run_plane_service
    from engine.planes.session import SessionParams

    state = get_state(ctx)
    if name not in PLANE_NAMES:
        eprint(f"error: plane {name!r} is not a plane; use data, strategy or order")
        return int(ExitCode.USAGE)
    cfg = bus_overrides(state.config(), bus, kafka_bootstrap)
    if cfg.bus.backend != "kafka":
        eprint(
            "error: the embedded bus lives inside one process, so planes in separate processes "
            "cannot share it; use --bus kafka (and --kafka-bootstrap HOST:PORT), or run the "
            "whole session in one process with `algotrade paper-session`"
        )
        return int(ExitCode.USAGE)
    kind = broker or cfg.broker.kind
    if kind not in ("sim", "ib"):
        eprint(f"error: --broker {kind!r} is not a broker; use sim or ib")
        return int(ExitCode.USAGE)
    import re

    if not re.fullmatch(r"[A-Za-z0-9._-]{1,100}", session_id):
        eprint(
            f"error: --session-id {session_id!r} cannot name Kafka topics: use letters, digits, "
            "'.', '_' and '-' (at most 100), e.g. paper-2026-11-26"
        )
        return int(ExitCode.USAGE)
    if name == "strategy" and (broker or host or port or client_id):
        eprint("error: --broker/--host/--port/--client-id belong to the order and data planes")
        return int(ExitCode.USAGE)
    if name != "order" and record_baseline:
        eprint("error: --record-baseline belongs to the order plane")
        return int(ExitCode.USAGE)
    from algotrade_cli.paper import SIM_DEFAULT_SPEED

    out_dir = Path(out) if out is not None else Path(cfg.paths.prelive)
    chosen_speed = speed or (
        cfg.session.speed if cfg.session.speed != 1.0 or kind == "ib" else SIM_DEFAULT_SPEED
    )
    params = SessionParams()
    if max_trades is not None:
        params = replace(params, strategy=replace(params.strategy, max_intents=max_trades))
    port_default = (
        cfg.session.metrics_port + DEFAULT_PORT_OFFSET[name] if cfg.session.metrics_port else 0
    )
    options = ServiceOptions(
        session_id=session_id, out_dir=out_dir, speed=chosen_speed,
        duration_hours=duration or cfg.session.duration_hours, params=params,
        metrics_port=port_default if metrics_port is None else metrics_port, wait_timeout=wait,
    )  # fmt: skip
    quiet = json_out or state.json_output
    if not quiet:
        eprint(
            f"{name} plane of session {session_id}: bus kafka at {cfg.bus.kafka_bootstrap}"
            + (f", broker {kind}" if name == "order" else "")
            + (f", metrics on :{options.metrics_port}" if options.metrics_port else "")
        )
    if name != "order":
        extra: dict[str, Any] = {}
        if name == "data" and kind == "ib":
            from engine.broker.factory import make_broker, resolve_target

            # its own read-only connection for quotes, beside the order plane's (client id + 1)
            target = resolve_target(
                cfg.broker, kind="ib", host=host, port=port, readonly=True,
                client_id=client_id if client_id is not None else cfg.broker.client_id + 1,
            )  # fmt: skip
            extra["quote_broker"] = make_broker(
                target, cfg.pacing, reconnect_max_backoff=cfg.broker.reconnect_max_backoff
            )
        res = run_plane_service(name, cfg, options, **extra)  # type: ignore[arg-type]
        payload = {k: v for k, v in res.__dict__.items()}
        if quiet:
            print_json(payload)
        else:
            eprint(f"{name} plane: {res.status}: {res.message}")
        return int(res.exit_code)
    return _order(cfg, options, kind, host, port, client_id, record_baseline, backtest_report,
                  out_dir, quiet)  # fmt: skip


def _order(
    cfg: AppConfig,
    options: Any,
    kind: str,
    host: str | None,
    port: int | None,
    client_id: int | None,
    record_baseline: bool,
    backtest_report: Path | None,
    out_dir: Path,
    quiet: bool,
) -> int:
    from algotrade_cli.paper import _backtest_path, _factory, summary_payload
    from artifacts.io import ArtifactError
    from engine.planes.services import run_plane_service
    from gates.paper_artifacts import read_backtest_sharpe, read_baseline, write_session_artifacts

    base_path = out_dir / "LATENCY_BASELINE.json"
    try:
        base = None if record_baseline else read_baseline(base_path)
    except ArtifactError as exc:
        eprint(f"error: {base_path} is not a valid latency baseline: {exc}")
        return int(ExitCode.USAGE)
    sharpe_bt, bt_ref = read_backtest_sharpe(_backtest_path(backtest_report, out_dir, cfg))
    factory, where = _factory(cfg, kind, host, port, client_id)
    result = run_plane_service(
        "order", cfg, options, broker_factory=factory, broker_kind=kind,
        host=where and (host or cfg.broker.host), port=(port or cfg.broker.port) if where else None,
        record_baseline=record_baseline, baseline=base, sharpe_backtest=sharpe_bt,
    )  # fmt: skip
    from engine.planes.session import SessionResult

    assert isinstance(result, SessionResult)
    if result.status in ("unreachable", "refused") and not result.orders:
        eprint(f"error: {result.message}")
        return result.exit_code
    written = write_session_artifacts(
        result, out_dir, backtest_ref=bt_ref, write_baseline=record_baseline
    )
    payload = summary_payload(result, written.log, written.metrics, written.baseline)
    if quiet:
        print_json(payload)
    else:
        from algotrade_cli.render.paper import render_summary

        render_summary(payload)
    return result.exit_code
