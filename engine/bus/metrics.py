"""Counters the bus keeps per topic (published, consumed, dead-lettered); plain Python, no exporter.

The Prometheus side (``engine.planes.metrics``) reads :meth:`BusMetrics.snapshot` when scraped.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class BusMetrics:
    """Monotonic counters, keyed by topic.

    ``published``: valid messages appended to the topic. ``consumed``: valid records delivered to
    consumers of the topic. ``dlq``: messages of the topic routed to its dead-letter topic, split into
    ``invalid_on_publish`` and ``invalid_on_consume``. ``dropped``: dead letters that could not be
    written (they failed their own validation) — should stay 0. ``replay_skipped``: invalid records
    a replay skipped. ``flushes``/``syncs``: journal
    group commits and fsyncs.
    """

    published: Counter[str] = field(default_factory=Counter)
    consumed: Counter[str] = field(default_factory=Counter)
    dlq: Counter[str] = field(default_factory=Counter)
    invalid_on_publish: Counter[str] = field(default_factory=Counter)
    invalid_on_consume: Counter[str] = field(default_factory=Counter)
    dropped: Counter[str] = field(default_factory=Counter)
    replay_skipped: Counter[str] = field(default_factory=Counter)
    flushes: int = 0
    syncs: int = 0

    def snapshot(self) -> dict[str, object]:
        """A JSON-ready copy of every counter."""
        return {
            "published": dict(self.published),
            "consumed": dict(self.consumed),
            "dlq": dict(self.dlq),
            "invalid_on_publish": dict(self.invalid_on_publish),
            "invalid_on_consume": dict(self.invalid_on_consume),
            "dropped": dict(self.dropped),
            "replay_skipped": dict(self.replay_skipped),
            "flushes": self.flushes,
            "syncs": self.syncs,
        }
