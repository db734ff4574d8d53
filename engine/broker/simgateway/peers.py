"""What the gateway core knows of its clients: the peer interface, their subscriptions, counters."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from engine.broker.simgateway import messages as m


class Peer(Protocol):
    """What the core needs from a connected client session."""

    client_id: int
    server_version: int
    subs: Subscriptions

    def send(self, msg: m.Msg) -> None: ...

    def send_error(self, req_id: int, code: int, text: str) -> None: ...

    def send_end(self, name: str, msg: m.Msg) -> None: ...

    def close(self, reason: str) -> None: ...


@dataclass
class Subscriptions:
    """Live subscriptions of one client connection."""

    positions: bool = False
    account_updates: str | None = None
    account_multi: set[int] = field(default_factory=set)
    market_data: dict[int, str] = field(default_factory=dict)
    pnl: set[int] = field(default_factory=set)
    pnl_single: dict[int, int] = field(default_factory=dict)  # reqId -> conId


@dataclass
class GatewayStats:
    connections: int = 0
    orders: int = 0
    fills: int = 0
    rejects: int = 0
    cancels: int = 0
    pacing_errors: int = 0
    historical_pacing_errors: int = 0
    dropped_messages: int = 0
