"""Helpers for the simulated-gateway tests: ib_async's own Decoder and Client as golden peers."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from ib_async import IB
from ib_async.client import Client
from ib_async.contract import Contract
from ib_async.decoder import Decoder
from ib_async.order import Order

from engine.broker.simgateway.framing import FrameDecoder, encode_frame, split_fields

WRAPPER_METHODS = (
    "priceSizeTick", "tickSize", "orderStatus", "error", "openOrder", "updateAccountValue",
    "updatePortfolio", "updateAccountTime", "nextValidId", "contractDetails", "execDetails",
    "managedAccounts", "historicalData", "historicalDataEnd", "currentTime",
    "contractDetailsEnd", "openOrderEnd", "accountDownloadEnd", "execDetailsEnd",
    "tickSnapshotEnd", "marketDataType", "commissionReport", "position", "positionEnd",
    "accountSummary", "accountSummaryEnd", "accountUpdateMulti", "accountUpdateMultiEnd",
    "completedOrder", "completedOrdersEnd", "pnl", "pnlSingle",
)  # fmt: skip


class DecodeRecorder:
    """ib_async's Decoder over a wrapper that records calls (checking each call's signature)."""

    def __init__(self, server_version: int) -> None:
        self.ib = IB()
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        wrapper = self.ib.wrapper
        for name in WRAPPER_METHODS:
            real = getattr(wrapper, name)
            setattr(wrapper, name, self._recorder(name, inspect.signature(real)))
        self.decoder = Decoder(wrapper, server_version)

    def _recorder(self, name: str, sig: inspect.Signature) -> Callable[..., None]:
        def record(*args: Any) -> None:
            sig.bind(*args)  # a wrong argument count raises, as the real method would
            self.calls.append((name, args))

        return record

    def feed_frame(self, frame: bytes) -> None:
        """Decode one server frame exactly as Client._onSocketHasData does."""
        for payload in FrameDecoder().feed(frame):
            self.decoder.interpret(split_fields(payload))


@contextmanager
def decoder_errors(caplog: Any) -> Iterator[list[logging.LogRecord]]:
    """Collect ERROR records of ib_async's Decoder logger while the block runs."""
    records: list[logging.LogRecord] = []
    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="ib_async.Decoder"):
        yield records
    records.extend(r for r in caplog.records if r.name == "ib_async.Decoder")


def decode(fields: list[Any], server_version: int) -> DecodeRecorder:
    rec = DecodeRecorder(server_version)
    rec.feed_frame(encode_frame(fields))
    return rec


def client_frames(server_version: int, action: Callable[[Client], None]) -> list[list[str]]:
    """Run ``action`` on a real ib_async Client and return the frames it would send."""
    ib = IB()
    client = ib.client
    sent: list[bytes] = []
    client.conn.sendMsg = sent.append  # type: ignore[method-assign]
    client.connState = Client.CONNECTED
    client._serverVersion = server_version
    client.MaxRequests = 0
    try:
        action(client)
    finally:
        client.connState = Client.DISCONNECTED
    frames = FrameDecoder()
    return [split_fields(p) for data in sent for p in frames.feed(data)]


def place_order_fields(
    server_version: int, order_id: int, contract: Contract, order: Order
) -> list[str]:
    [fields] = client_frames(server_version, lambda c: c.placeOrder(order_id, contract, order))
    return fields


def run(coro: Any, timeout: float = 20.0) -> Any:
    """Run a coroutine on a fresh event loop, failing after ``timeout`` seconds."""
    import asyncio

    return asyncio.run(asyncio.wait_for(coro, timeout))


async def wait_until(predicate: Callable[[], bool], timeout: float = 3.0) -> None:
    """Poll ``predicate`` every 5 ms until true; AssertionError after ``timeout`` seconds."""
    import asyncio
    import time

    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(0.005)


def quiet_config(**overrides: Any) -> Any:
    """A gateway on a random free loopback port with frozen prices and two symbols."""
    from engine.broker.simgateway import GatewayConfig

    settings: dict[str, Any] = {
        "port": 0,
        "symbols": ("AAPL", "MSFT"),
        "annual_vol": 0.0,
        "tick_interval": 0.02,
    }
    settings.update(overrides)
    return GatewayConfig(**settings)


async def connect(port: int, client_id: int = 1, **kwargs: Any) -> IB:
    ib = IB()
    ib.RaiseRequestErrors = False
    await ib.connectAsync(
        "127.0.0.1", port, clientId=client_id, timeout=kwargs.pop("timeout", 5), **kwargs
    )
    return ib
