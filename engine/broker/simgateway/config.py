"""Settings and fixed vocabulary of the simulated gateway (versions, statuses, texts)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from engine.broker.sim_exchange import SimOrderType, TimeInForce

MIN_SERVER_VERSION = 157
MAX_SERVER_VERSION = 178
DEFAULT_ACCOUNT = "DU7654321"
HALF_SPREAD_BPS = 2.0

IB_STATUS = {
    "SUBMITTED": "Submitted",
    "PARTIAL_FILL": "Submitted",
    "FILLED": "Filled",
    "CANCELED": "Cancelled",
    "REJECTED": "Inactive",
}
ORDER_TYPES: dict[str, SimOrderType] = {
    "MKT": "MARKET",
    "LMT": "LIMIT",
    "STP": "STOP",
    "STP LMT": "STOP_LIMIT",
}
TIFS: dict[str, TimeInForce] = {"": "DAY", "DAY": "DAY", "GTC": "GTC", "IOC": "IOC"}


@dataclass(frozen=True)
class GatewayConfig:
    """Settings of one simulated gateway (seconds, USD).

    ``message_rate_limit=None`` turns pacing enforcement off (benchmarks of raw latency);
    ``symbols=None`` uses the bundled ``data/assets.csv`` universe; ``price_model`` picks a
    light seeded random walk or the embedded synthetic market (numpy/pandas; the CLI default);
    ``read_only_api`` is TWS's "Read-Only API" setting: orders and cancels get error 321.
    """

    host: str = "127.0.0.1"
    port: int = 4002
    account: str = DEFAULT_ACCOUNT
    server_version: int = MAX_SERVER_VERSION
    seed: int = 0
    latency_ms: float = 0.0
    initial_cash: float = 1_000_000.0
    message_rate_limit: float | None = 50.0
    market_data_lines: int = 100
    tick_interval: float = 0.25
    annual_vol: float = 0.25
    admit_unknown_symbols: bool = True
    symbols: tuple[str, ...] | None = None
    farm_status: bool = True
    price_model: Literal["random_walk", "synthetic"] = "random_walk"
    read_only_api: bool = False

    def __post_init__(self) -> None:
        if not MIN_SERVER_VERSION <= self.server_version <= MAX_SERVER_VERSION:
            raise ValueError(
                f"server_version {self.server_version} is not supported; choose "
                f"{MIN_SERVER_VERSION}..{MAX_SERVER_VERSION} (the range ib_async 2.x speaks)"
            )
        if not self.account:
            raise ValueError("account must be a non-empty id such as DU1234567")
        if self.latency_ms < 0:
            raise ValueError(f"latency_ms must be ≥ 0, got {self.latency_ms}")


READ_ONLY_TEXT = (
    "Error validating request.-'bd' : cause - The API interface is currently in Read-Only mode."
)
INFO_TEXT = {
    399: "Order Message:\nWarning: your order will not be placed at the exchange until "
    "2026-01-02 09:30:00 US/Eastern",
    10349: "Order TIF was set to DAY based on order preset.",
    2109: "Order Event Warning:Attribute 'Outside Regular Trading Hours' is ignored based on "
    "the order type and destination. PlaceOrder is now being processed.",
}
