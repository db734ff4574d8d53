"""Gate 7 runs the paper session through the planes' core (``run_paper_session``).

1. The mock baseline: when ``LATENCY_BASELINE.json`` is not in the output directory yet, a
   session against the simulated broker records it first (in ``baseline-session/``, with its own
   kill-switch state so it can never latch the real one).
2. The judged session: the chosen broker (sim by default, ``--broker ib --host --port`` for a
   paper gateway), compared with that baseline and with ``BACKTEST_REPORT.json``'s Sharpe when
   one is found (``--out`` or ``paths.out``).
3. ``PAPER_TRADING_LOG.json`` and ``PAPER_TRADING_METRICS.csv`` are written through
   :mod:`gates.paper_artifacts` (the same writer ``algotrade paper-session`` uses).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from artifacts.models.latency_baseline import LatencyBaseline
from gates.base import GateContext

if TYPE_CHECKING:
    from engine.planes.session import BrokerFactory

SIM_SPEED = 360.0  # the paper-session command's default for the simulated broker
BASELINE_DIR = "baseline-session"


def planes_runner(core: Callable[..., Any]) -> Callable[[GateContext], str]:
    """Adapt ``run_paper_session`` to gate 7: ``runner(ctx)`` writes the artifacts, returns a note."""

    def run(ctx: GateContext) -> str:
        return run_session(ctx, core)

    return run


def _speed(ctx: GateContext, kind: str) -> float:
    if ctx.options.session_speed:
        return ctx.options.session_speed
    configured = ctx.config.session.speed
    return configured if configured != 1.0 or kind == "ib" else SIM_SPEED


def _factory(ctx: GateContext) -> tuple[BrokerFactory | None, str, str | None, int | None]:
    from gates.broker_access import make, target

    t = target(ctx, readonly=False)
    if t.kind == "sim":
        return None, "sim", None, None

    def factory(_prices: Any, _session_dir: Path) -> Any:
        return make(ctx, readonly=False)

    return factory, "ib", t.host, t.port


def run_session(ctx: GateContext, core: Callable[..., Any]) -> str:
    from gates.paper_artifacts import read_backtest_sharpe, read_baseline, write_session_artifacts

    out = ctx.out_dir
    out.mkdir(parents=True, exist_ok=True)
    hours = ctx.options.session_hours
    baseline_file = out / LatencyBaseline.FILE_NAME
    notes = []
    if not baseline_file.is_file():
        base_dir = out / BASELINE_DIR
        isolated = ctx.config.with_overrides({"paths.state": str(base_dir / "state")})
        recorded = core(
            isolated, out_dir=base_dir, speed=_speed(ctx, "sim"), duration_hours=hours,
            record_baseline=True, metrics_port=0, logs_dir=base_dir / "logs",
        )  # fmt: skip
        if recorded.baseline is None:
            raise RuntimeError(f"the baseline session measured no latency: {recorded.message}")
        write_session_artifacts(recorded, base_dir, write_baseline=True)
        (base_dir / LatencyBaseline.FILE_NAME).replace(baseline_file)
        notes.append(f"mock baseline recorded ({recorded.baseline.samples} orders)")
    baseline = read_baseline(baseline_file)
    sharpe_bt, bt_ref = read_backtest_sharpe(_backtest_path(ctx))
    factory, kind, host, port = _factory(ctx)
    speed = _speed(ctx, kind)
    result = core(
        ctx.config, out_dir=out, broker_factory=factory, speed=speed, duration_hours=hours,
        baseline=baseline, sharpe_backtest=sharpe_bt, broker_kind=kind, host=host, port=port,
        metrics_port=0,
    )  # fmt: skip
    if result.status in ("unreachable", "refused") and not result.orders:
        raise SessionNotRun(result.message)
    write_session_artifacts(result, out, backtest_ref=bt_ref)
    notes.append(
        f"{result.status}: {result.trades} trades at {speed:g}× in {result.wall_seconds:.1f} s"
    )
    return "; ".join(notes)


class SessionNotRun(RuntimeError):
    """The broker was unreachable or a latched halt refused the start (message says which)."""


def _backtest_path(ctx: GateContext) -> Path | None:
    for candidate in (
        ctx.out_dir / "BACKTEST_REPORT.json",
        Path(ctx.config.paths.out) / "BACKTEST_REPORT.json",
    ):
        if candidate.is_file():
            return candidate
    return None
