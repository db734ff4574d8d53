"""The message bus between the data, strategy and order planes (SPEC §3).

``open_bus(config, state_dir)`` builds the configured backend; the embedded
:class:`~engine.bus.memory.MemoryBus` (optionally journaled) is the default.
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
]


def open_bus(config: BusConfig, state_dir: Path, *, clock: Clock = system_clock) -> MemoryBus:
    """The embedded bus per ``config`` with its journal under ``state_dir/bus`` (call ``start()``).

    Raises ``ValueError`` for ``backend="kafka"`` until that backend exists.
    """
    if config.backend != "memory":
        raise ValueError(
            f"bus.backend={config.backend!r} is not available in this version; use 'memory'"
        )
    journal = open_journal(config.journal, state_dir / "bus", sync=config.journal_sync)
    return MemoryBus(
        journal,
        partitions=config.partitions,
        clock=clock,
        flush_interval=config.flush_interval_ms / 1000.0,
        flush_max_messages=config.flush_max_messages,
    )
