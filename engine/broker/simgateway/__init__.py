"""A simulated IB Gateway: a TWS-API socket server the unmodified ``ib_async`` client trades on.

It wraps the shared :class:`~engine.broker.sim_exchange.SimExchange` (one fill model for every
simulated broker), enforces IBKR pacing and can inject the faults real users meet.
"""

from __future__ import annotations

from engine.broker.simgateway.config import DEFAULT_ACCOUNT, GatewayConfig
from engine.broker.simgateway.core import GatewayCore
from engine.broker.simgateway.faults import GatewayFaults, parse_fault_spec
from engine.broker.simgateway.server import GatewayStatus, SimGateway

__all__ = [
    "DEFAULT_ACCOUNT",
    "GatewayConfig",
    "GatewayCore",
    "GatewayFaults",
    "GatewayStatus",
    "SimGateway",
    "parse_fault_spec",
]
