"""The session's risk monitor: account samples after every bar, the live kill switches, the flatten.

After every bar the account's net liquidation (unrealised P&L included) gives P&L, drawdown from
the high-water mark and the PSR — by default of the paper track record's *daily* returns (one per
finished session, today's return so far as the latest), armed after ``kill_switch.psr_min_obs``
returns exactly as in the backtest; ``psr_basis="session_bars"`` uses the session's per-bar
returns instead. Each sample is appended to ``samples.jsonl`` (a restarted session continues from
them). A HALT sets the shared :class:`~engine.planes.state.HaltState`; HALT_AND_FLATTEN then runs
the rollback path once (:meth:`RiskMonitor.flatten_if_halted`).

Used by the one-process session (:mod:`engine.planes.session`) and by the order-plane service of
a split session (:mod:`engine.planes.services`).
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np

from engine.broker.clock import SystemClock
from engine.broker.protocol import Broker
from engine.broker.types import BrokerError
from engine.config import AppConfig
from engine.planes.jsonlog import PlaneLog
from engine.planes.metrics import SessionMetrics
from engine.planes.order_plane import OrderPlane, percentile
from engine.planes.state import HaltState
from engine.risk.kill_switch import KillSwitchBank
from engine.stats.psr import OnlinePSR, probabilistic_sharpe_ratio


@dataclass(frozen=True)
class MetricSample:
    """One sample of the session (after every bar), cumulative counters."""

    timestamp: datetime
    net_liquidation: float
    pnl: float
    pnl_fraction: float
    drawdown: float
    psr: float | None
    orders: int
    fills: int
    fill_rate: float | None
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    latency_p99_ms: float | None
    pacing_violations: int
    gross_exposure: float | None
    kill_switch_state: Literal["OK", "WARNING", "HALTED"]


@dataclass(frozen=True)
class KillSwitchRecord:
    kind: str
    level: str
    action: str | None
    value: float
    threshold: float
    at: str
    message: str


def returns_of(samples: list[MetricSample], start_nlv: float) -> list[float]:
    """Per-sample returns of the net liquidation, the first against ``start_nlv``."""
    out: list[float] = []
    prev = start_nlv
    for s in samples:
        out.append(s.net_liquidation / prev - 1.0 if prev > 0 else 0.0)
        prev = s.net_liquidation
    return out


def sample_to_json(s: MetricSample) -> dict[str, Any]:
    d = dict(s.__dict__)
    d["timestamp"] = s.timestamp.isoformat()
    return d


def sample_from_json(d: dict[str, Any]) -> MetricSample:
    d = dict(d)
    d["timestamp"] = datetime.fromisoformat(d["timestamp"])
    return MetricSample(**d)


def read_samples(path: Path) -> list[MetricSample]:
    """The samples of ``samples.jsonl`` (a line torn by a crash is skipped)."""
    out: list[MetricSample] = []
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                out.append(sample_from_json(json.loads(line)))
            except (ValueError, KeyError, TypeError):
                continue
    return out


class RiskMonitor:
    """Samples the account and drives the kill switches; see the module docstring."""

    def __init__(
        self,
        config: AppConfig,
        *,
        broker: Broker,
        bank: KillSwitchBank,
        halt: HaltState,
        order_plane: OrderPlane,
        log: PlaneLog,
        metrics: SessionMetrics,
        start_nlv: float,
        samples: list[MetricSample],
        samples_path: Path,
        track: list[tuple[str, float]],
        psr_basis: Literal["daily", "session_bars"] = "daily",
        progress: Callable[[MetricSample, list[Any]], None] | None = None,
    ) -> None:
        self.config = config
        self.broker = broker
        self.bank = bank
        self.halt = halt
        self.order_plane = order_plane
        self.log = log
        self.metrics = metrics
        self.start_nlv = start_nlv
        self.samples = samples
        self.samples_path = samples_path
        self.track = track
        self.daily_psr = psr_basis == "daily"
        self.progress = progress
        self.psr_online = OnlinePSR()
        for r in returns_of(samples, start_nlv):
            self.psr_online.update(r)  # the per-bar PSR state before a restart
        self.prev_nlv = samples[-1].net_liquidation if samples else start_nlv
        self.peak = max([start_nlv, *(s.net_liquidation for s in samples)])
        self.events: list[KillSwitchRecord] = []
        self.flattened = asyncio.Event()
        self.rollback_flat: bool | None = None

    def sampled(self, at: datetime) -> bool:
        """A sample at market time ``at`` exists (a restarted plane does not sample twice)."""
        return any(s.timestamp == at for s in self.samples)

    async def sample(self, at: datetime) -> MetricSample | None:
        """Sample the account at market time ``at``; evaluate the kill switches."""
        cfg, bank, halt = self.config, self.bank, self.halt
        try:
            acct = await self.broker.account_summary()
            positions = await self.broker.positions()
        except BrokerError as exc:
            self.log.log("sample_failed", "warning", error=str(exc))
            return None
        nlv = float(acct.net_liquidation)
        ret = nlv / self.prev_nlv - 1.0 if self.prev_nlv > 0 else 0.0
        self.prev_nlv = nlv
        self.psr_online.update(ret)
        self.peak = max(self.peak, nlv)
        dd = 1.0 - nlv / self.peak if self.peak > 0 else 0.0
        pnl_f = nlv / self.start_nlv - 1.0
        if self.daily_psr:  # the paper track record's daily returns, today's so far included
            daily = [*(r for _sid, r in self.track), pnl_f]
            n_obs = len(daily)
            armed = n_obs >= cfg.kill_switch.psr_min_obs
            psr = probabilistic_sharpe_ratio(np.asarray(daily)) if armed else math.nan
        else:
            n_obs = self.psr_online.n
            armed = n_obs >= cfg.kill_switch.psr_min_obs
            psr = self.psr_online.value() if armed else math.nan
        for e in bank.evaluate(pnl_f, dd, float(psr), n_obs, at):
            self.events.append(KillSwitchRecord(e.kind, e.level, e.action, e.value,
                                                e.threshold, e.at, e.message))  # fmt: skip
            self.log.log(
                "kill_switch",
                "error" if e.level == "HALT" else "warning",
                kind=e.kind,
                switch_level=e.level,
                action=e.action,
                message=e.message,
            )
            if e.level == "HALT":
                self.metrics.set_kill_switch(e.kind, True)
        if bank.halted and not halt.halted and bank.halt_event is not None:
            halt.set(bank.halt_event.message, bank.halt_event.action or "HALT_AND_INVESTIGATE")
        orders = self.order_plane.orders.values()
        sub = [o for o in orders if o.risk_rejected is None and o.order_id is not None]
        filled = sum(1 for o in sub if o.status == "FILLED")
        lat = self.order_plane.latencies_ms
        gross = sum(abs(p.market_value or 0.0) for p in positions)
        pv = getattr(getattr(self.broker, "pacing_violations", None), "count", 0)
        state: Literal["OK", "WARNING", "HALTED"] = (
            "HALTED" if bank.halted else ("WARNING" if bank.warning else "OK")
        )
        s = MetricSample(
            timestamp=at, net_liquidation=nlv, pnl=nlv - self.start_nlv, pnl_fraction=pnl_f,
            drawdown=max(0.0, min(1.0, dd)),
            psr=None if not math.isfinite(psr) else max(0.0, min(1.0, psr)),
            orders=len(sub), fills=sum(len(o.fills) for o in orders),
            fill_rate=filled / len(sub) if sub else None,
            latency_p50_ms=percentile(lat, 50), latency_p95_ms=percentile(lat, 95),
            latency_p99_ms=percentile(lat, 99), pacing_violations=int(pv),
            gross_exposure=gross / nlv if nlv > 0 else None, kill_switch_state=state,
        )  # fmt: skip
        self.samples.append(s)
        with self.samples_path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(sample_to_json(s)) + "\n")
        self.metrics.pnl_current.set(pnl_f)
        self.metrics.drawdown_current.set(dd)
        self.metrics.psr_current.set(psr)
        if self.progress is not None:
            self.progress(s, positions)
        return s

    async def flatten_if_halted(self) -> bool:
        """HALT_AND_FLATTEN: run the rollback once; ``True`` when it ran (the session ends)."""
        from engine.broker.operations import HaltFlag, rollback

        halt = self.halt
        if not (halt.halted and halt.action == "HALT_AND_FLATTEN") or self.flattened.is_set():
            return False
        self.flattened.set()
        cfg = self.config
        outcome = await rollback(
            self.broker, HaltFlag(Path(cfg.paths.state)), clock=SystemClock(),
            now_utc=lambda: datetime.now(UTC),
            deadline_seconds=cfg.gates.rollback_target_seconds, poll_interval=0.05,
            reason=halt.reason or "kill switch",
        )  # fmt: skip
        self.rollback_flat = outcome.verified_flat
        self.log.log("rollback", verified_flat=outcome.verified_flat,
                     seconds=round(outcome.total_seconds, 3))  # fmt: skip
        return True
