"""Bus topic names (SPEC §3), the same for the embedded bus and Kafka."""

from __future__ import annotations

MARKET_EVENTS = "market_events"
ORDER_INTENTS = "order_intents"
EXECUTION_REPORTS = "execution_reports"

TOPICS: tuple[str, ...] = (MARKET_EVENTS, ORDER_INTENTS, EXECUTION_REPORTS)

TOPIC_BY_EVENT_TYPE: dict[str, str] = {
    "bar_event": MARKET_EVENTS,
    "tick_event": MARKET_EVENTS,
    "ofi_event": MARKET_EVENTS,
    "order_intent": ORDER_INTENTS,
    "execution_report": EXECUTION_REPORTS,
}
"""``event_type`` -> the topic its messages are published on."""

EVENT_TYPES_BY_TOPIC: dict[str, tuple[str, ...]] = {
    topic: tuple(et for et, t in TOPIC_BY_EVENT_TYPE.items() if t == topic) for topic in TOPICS
}
"""Topic -> the ``event_type`` values allowed on it."""

DLQ_PREFIX = "dlq_"


def dlq_topic(topic: str) -> str:
    """Dead-letter topic for ``topic``: ``"market_events"`` -> ``"dlq_market_events"``."""
    return DLQ_PREFIX + topic


DLQ_TOPICS: tuple[str, ...] = tuple(dlq_topic(t) for t in TOPICS)


def topic_for_event_type(event_type: str) -> str:
    """Topic for an ``event_type``; raises ``ValueError`` naming the valid types if unknown."""
    try:
        return TOPIC_BY_EVENT_TYPE[event_type]
    except KeyError:
        raise ValueError(
            f"unknown event_type {event_type!r}; expected one of {', '.join(TOPIC_BY_EVENT_TYPE)}"
        ) from None


SESSION_CONTROL = "session_control"
"""The planes' coordination topic (:mod:`contracts.control`): not a trading message; used when the
planes run as separate processes (who is ready, which bar is published, decided, settled)."""

CONTROL_TOPICS: tuple[str, ...] = (SESSION_CONTROL, dlq_topic(SESSION_CONTROL))
