"""SessionMetrics: the names, labels and units the alert rules and dashboard rely on."""

from __future__ import annotations

import asyncio

import pytest
from prometheus_client.parser import text_string_to_metric_families

from engine.bus import MemoryBus
from engine.planes.metrics import KILL_SWITCH_TYPES, SessionMetrics


def samples(m: SessionMetrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(m.render().decode()):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


@pytest.mark.unit
def test_gauges_and_kill_switch_labels_are_exported() -> None:
    m = SessionMetrics()
    m.pnl_current.set(-0.031)
    m.drawdown_current.set(0.12)
    m.psr_current.set(0.25)
    m.set_kill_switch("dd", True)
    s = samples(m)
    assert s[("pnl_current", ())] == -0.031
    assert s[("drawdown_current", ())] == 0.12
    assert s[("psr_current", ())] == 0.25
    assert {k: s[("kill_switch_triggered", (("type", k),))] for k in KILL_SWITCH_TYPES} == {
        "pnl": 0.0,
        "dd": 1.0,
        "psr": 0.0,
    }
    with pytest.raises(ValueError, match="pnl, dd, psr"):
        m.set_kill_switch("drawdown", True)


@pytest.mark.unit
def test_counters_and_latency_histogram() -> None:
    m = SessionMetrics()
    m.orders.inc(3)
    m.fills.inc(2)
    m.rejects.labels(stage="pretrade").inc()
    for seconds in (0.0004, 0.003, 0.2):
        m.intent_to_ack_latency.observe(seconds)
    s = samples(m)
    assert s[("orders_total", ())] == 3 and s[("fills_total", ())] == 2
    assert s[("rejects_total", (("stage", "pretrade"),))] == 1
    assert s[("rejects_total", (("stage", "broker"),))] == 0
    assert s[("intent_to_ack_latency_seconds_count", ())] == 3
    assert s[("intent_to_ack_latency_seconds_bucket", (("le", "0.005"),))] == 2


@pytest.mark.unit
def test_bus_counters_are_read_at_scrape_time() -> None:
    m = SessionMetrics()

    async def scenario() -> None:
        async with MemoryBus() as bus:
            m.attach_bus(bus.metrics)
            await bus.publish("market_events", {"event_type": "bar_event"})
            assert samples(m)[("dlq_messages_total", (("topic", "market_events"),))] == 1
            await bus.publish("market_events", {"event_type": "tick_event"})

    asyncio.run(scenario())
    s = samples(m)
    assert s[("dlq_messages_total", (("topic", "market_events"),))] == 2
    assert s[("bus_published_total", (("topic", "dlq_market_events"),))] == 2


@pytest.mark.unit
def test_each_session_has_its_own_registry() -> None:
    a, b = SessionMetrics(), SessionMetrics()
    a.orders.inc()
    assert samples(b)[("orders_total", ())] == 0
