"""The emergency commands over the real IBKR code path: ``--broker ib`` against the simulated IB
gateway running as a separate process (``algotrade sim-gateway``), orders placed by another client."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from artifacts.io import read_artifact
from artifacts.models.rollback_report import RollbackReport
from tests.support.cli import run_cli

pytestmark = [pytest.mark.e2e, pytest.mark.broker, pytest.mark.slow]


@pytest.fixture
def gateway_port(tmp_path: Path) -> Iterator[int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "algotrade_cli", "sim-gateway", "--port", str(port), "--seed", "4"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp_path,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        else:
            pytest.fail("the simulated gateway did not start listening")
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _open_positions_and_orders(port: int) -> None:
    """Another client (id 5) buys two stocks and leaves two resting limit orders."""
    from ib_async import IB, LimitOrder, MarketOrder, Stock

    async def main() -> None:
        ib = IB()
        await ib.connectAsync("127.0.0.1", port, clientId=5, timeout=10)
        for symbol in ("AAPL", "MSFT"):
            contract = Stock(symbol, "SMART", "USD")
            ib.placeOrder(contract, MarketOrder("BUY", 10))
        await asyncio.sleep(0.5)
        positions = {p.contract.symbol: p.position for p in await ib.reqPositionsAsync()}
        for symbol in ("AAPL", "MSFT"):  # 2 % under the fill price: rests, inside the collar
            avg = next(p.avgCost for p in ib.positions() if p.contract.symbol == symbol)
            ib.placeOrder(Stock(symbol, "SMART", "USD"), LimitOrder("BUY", 1, round(avg * 0.98, 2)))
        await asyncio.sleep(0.5)
        assert positions == {"AAPL": 10, "MSFT": 10}, positions
        assert len([t for t in ib.openTrades() if not t.isDone()]) == 2
        ib.disconnect()

    asyncio.run(main())


def test_rollback_over_ib_ends_flat(gateway_port: int, in_tmp_dir: Path) -> None:
    _open_positions_and_orders(gateway_port)
    probe = run_cli("probe-account", "--broker", "ib", "--port", str(gateway_port),
                    "--client-id", "8", "--json")  # fmt: skip
    assert probe.exit_code == 0, probe.stderr
    payload = json.loads(probe.stdout)
    assert payload["trading_mode"] == "paper" and payload["server_version"]
    farm = [n for n in payload["notices"] if n["code"] in (2104, 2106, 2158)]
    assert farm and all(n["severity"] == "info" for n in farm)
    assert payload["open_orders_count"] == 2 and payload["positions_count"] == 2
    result = run_cli(
        "rollback", "--broker", "ib", "--port", str(gateway_port), "--client-id", "9", "--yes",
        "--deadline", "20",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr + result.stdout
    report = read_artifact(in_tmp_dir / "prelive" / "ROLLBACK_REPORT.json", RollbackReport)
    assert report.broker_kind == "ib" and report.verdict == "FLAT"
    assert len(report.orders_cancelled) == 2 and len(report.positions_closed) == 2
    # another client's orders: the per-order cancels get 10147, the global cancel clears them
    assert all(o.confirmed for o in report.orders_cancelled)
    assert report.steps[0].detail.endswith("2 by the global cancel), 0 left")
    assert "2 orders cancelled" in result.stdout
    assert report.account_id_masked and report.account_id_masked.startswith("DU")
    assert report.pacing_violations == 0
