"""The message bus between the data, strategy and order planes (SPEC §3).

``select_bus(config, state_dir)`` builds the configured backend: the embedded
:class:`~engine.bus.memory.MemoryBus` (optionally journaled, the default; ``open_bus`` opens only
this one) or, with ``bus.backend: kafka``, :class:`~engine.bus.kafka.KafkaBus` (imported only
then, so confluent-kafka stays optional).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from engine.bus.codec import ALL_TOPICS, UnknownTopicError
from engine.bus.idempotency import IdempotencyGuard
from engine.bus.journal import open_journal
from engine.bus.memory import Clock, MemoryBus, system_clock
from engine.bus.memory_consumer import MemoryConsumer
from engine.bus.metrics import BusMetrics
from engine.bus.protocol import Bus, Consumer, PublishResult, Record

if TYPE_CHECKING:
    from engine.config import BusConfig

__all__ = [
    "ALL_TOPICS",
    "Bus",
    "BusMetrics",
    "Consumer",
    "IdempotencyGuard",
    "MemoryBus",
    "MemoryConsumer",
    "PublishResult",
    "Record",
    "UnknownTopicError",
    "open_bus",
    "select_bus",
]


def open_bus(config: BusConfig, state_dir: Path, *, clock: Clock = system_clock) -> MemoryBus:
    """The embedded bus per ``config`` with its journal under ``state_dir/bus`` (call ``start()``).

    Raises ``ValueError`` for ``backend="kafka"``: :func:`select_bus` opens either backend.
    """
    if config.backend != "memory":
        raise ValueError(
            f"open_bus opens the embedded bus only, and bus.backend={config.backend!r}; "
            "call engine.bus.select_bus to get the Kafka backend"
        )
    journal = open_journal(config.journal, state_dir / "bus", sync=config.journal_sync)
    return MemoryBus(
        journal,
        partitions=config.partitions,
        clock=clock,
        flush_interval=config.flush_interval_ms / 1000.0,
        flush_max_messages=config.flush_max_messages,
    )


def select_bus(config: BusConfig, state_dir: Path, *, clock: Clock = system_clock) -> Bus:
    """The bus selected by ``config.backend`` (call ``await bus.start()``).

    ``memory``: :func:`open_bus` (journal under ``state_dir/bus``). ``kafka``: a
    :class:`~engine.bus.kafka.KafkaBus` on ``config.kafka_bootstrap`` with the ``kafka_*``
    settings (needs confluent-kafka: ``pip install 'algotrade[kafka]'``); ``state_dir`` unused.
    Both also offer ``closed``, ``publish_nowait``, ``committed(group, topic, partition)`` and
    ``end_offset`` beyond the :class:`Bus` protocol.
    """
    if config.backend == "kafka":
        try:
            from engine.bus.kafka import open_kafka_bus
        except ImportError as exc:  # confluent-kafka is an optional dependency
            raise ValueError(
                f"bus.backend='kafka' needs confluent-kafka: pip install 'algotrade[kafka]' ({exc})"
            ) from exc
        return open_kafka_bus(config, clock=clock)
    return open_bus(config, state_dir, clock=clock)
