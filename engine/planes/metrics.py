"""Prometheus metrics of a running session (SPEC §3 observability), on a private registry.

Fractions, not percent: ``pnl_current = -0.03`` is a 3 % loss, ``drawdown_current = 0.12`` is 12 %
below the high-water mark. Latencies are in seconds. The alert rules in
``deploy/prometheus/alerts.yml`` use the same names and the seed's levels.

Importing this module imports ``prometheus_client``; the CLI imports the engine lazily, so
``algotrade --help`` never pays for it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from engine.bus.metrics import BusMetrics

KILL_SWITCH_TYPES: tuple[str, ...] = ("pnl", "dd", "psr")

LATENCY_BUCKETS: tuple[float, ...] = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
)
"""Intent → acknowledgement latency buckets (seconds): sub-millisecond (simulated broker) to
seconds (a slow gateway)."""


class BusMetricsCollector(Collector):
    """Exposes a :class:`~engine.bus.metrics.BusMetrics` as counters, read at scrape time."""

    def __init__(self, bus_metrics: BusMetrics) -> None:
        self.bus_metrics = bus_metrics

    def collect(self) -> Iterator[Metric]:
        m = self.bus_metrics
        for name, doc, counts in (
            ("bus_published", "Valid messages appended to a topic.", m.published),
            ("bus_consumed", "Valid records delivered to consumers of a topic.", m.consumed),
            ("dlq_messages", "Messages of a topic routed to its dead-letter topic.", m.dlq),
            ("bus_dropped", "Dead letters that could not be written.", m.dropped),
        ):
            family = CounterMetricFamily(name, doc, labels=["topic"])
            for topic, value in sorted(counts.items()):
                family.add_metric([topic], float(value))
            yield family


class SessionMetrics:
    """Every metric a session exports; one instance per session, on its own registry."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self.pnl_current = Gauge(
            "pnl_current", "Session P&L as a fraction of starting equity.", registry=r
        )
        self.drawdown_current = Gauge(
            "drawdown_current",
            "Drawdown from the equity high-water mark, as a positive fraction.",
            registry=r,
        )
        self.psr_current = Gauge(
            "psr_current", "Probabilistic Sharpe ratio of the session returns (0..1).", registry=r
        )
        self.psr_current.set(float("nan"))  # not computable until the minimum sample
        self.kill_switch_triggered = Gauge(
            "kill_switch_triggered",
            "1 while the kill switch of this type is latched, else 0.",
            ["type"],
            registry=r,
        )
        for kind in KILL_SWITCH_TYPES:
            self.kill_switch_triggered.labels(type=kind).set(0)
        self.orders = Counter("orders", "Orders sent to the broker.", registry=r)
        self.fills = Counter("fills", "Fills (partial or complete) received.", registry=r)
        self.rejects = Counter(
            "rejects", "Intents or orders rejected, by stage.", ["stage"], registry=r
        )
        for stage in ("pretrade", "broker"):
            self.rejects.labels(stage=stage)
        self.pacing_violations = Counter(
            "pacing_violations", "Pacing violations reported by the broker.", registry=r
        )
        self.intent_to_ack_latency = Histogram(
            "intent_to_ack_latency_seconds",
            "Time from an intent's publication to the broker's acknowledgement.",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self._bus_collector: BusMetricsCollector | None = None

    def attach_bus(self, bus_metrics: BusMetrics) -> None:
        """Export the bus's per-topic counters (published, consumed, DLQ) from now on."""
        if self._bus_collector is not None:
            self.registry.unregister(self._bus_collector)
        self._bus_collector = BusMetricsCollector(bus_metrics)
        self.registry.register(self._bus_collector)

    def set_kill_switch(self, kind: str, latched: bool) -> None:
        """Reflect the latch state of kill switch ``kind`` (pnl, dd or psr)."""
        if kind not in KILL_SWITCH_TYPES:
            raise ValueError(
                f"kill switch type {kind!r} is unknown; use one of {', '.join(KILL_SWITCH_TYPES)}"
            )
        self.kill_switch_triggered.labels(type=kind).set(1 if latched else 0)

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric."""
        return generate_latest(self.registry)
