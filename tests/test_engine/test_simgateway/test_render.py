"""The sim-gateway status rendering (algotrade_cli/render/simgateway.py)."""

from __future__ import annotations

import pytest
from rich.console import Console

from algotrade_cli.render.simgateway import GatewayDisplay
from engine.broker.simgateway.core import GatewayStats
from engine.broker.simgateway.server import ClientStatus, GatewayStatus


def _status(**overrides: object) -> GatewayStatus:
    values: dict[str, object] = {
        "host": "127.0.0.1",
        "port": 4002,
        "account": "DU7654321",
        "server_version": 178,
        "uptime": 12.0,
        "clients": (ClientStatus(3, "127.0.0.1:5555", "ready", 40, 90, 47, 48.0, 2),),
        "stats": GatewayStats(orders=5, fills=4, rejects=1, pacing_errors=0),
        "open_orders": 1,
        "positions": 2,
        "net_liquidation": 1_000_123.5,
        "cash": 990_000.0,
        "faults": ("reject_orders=1",),
        "offline": False,
    }
    values.update(overrides)
    return GatewayStatus(**values)  # type: ignore[arg-type]


def test_plain_mode_prints_banner_changes_and_summary(capsys: pytest.CaptureFixture[str]) -> None:
    display = GatewayDisplay()
    assert display.is_live is False  # pytest's stderr is not a TTY
    with display.live(_status()):
        display.update(_status())
        display.update(_status())  # unchanged: not printed again
        display.update(_status(offline=True))
    display.finish(_status(), interrupted=True)
    err = capsys.readouterr().err
    assert "listening on 127.0.0.1:4002 (account DU7654321, server version 178)" in err
    assert "faults armed: reject_orders=1" in err
    assert err.count("orders=5 fills=4 rejects=1") == 3  # two distinct updates + the summary
    assert "OFFLINE(1100)" in err
    assert "sim-gateway interrupted after 12.0 s" in err


def test_live_table_shows_clients_counters_and_faults() -> None:
    display = GatewayDisplay()
    console = Console(record=True, width=140)
    console.print(display._table(_status(offline=True)))
    text = console.export_text()
    assert "127.0.0.1:5555" in text and "ready" in text
    assert "orders 5" in text and "fills 4" in text and "err100 0" in text
    assert "IB connectivity lost (1100)" in text
    assert "faults: reject_orders=1" in text
