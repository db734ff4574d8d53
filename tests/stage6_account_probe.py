"""Stage 6: the read-only account probe over the TWS API.

Runs against the simulated IB gateway (in-process, free loopback port) by default, and against a
real IB paper Gateway when ``ALGOTRADE_IB_PORT`` (and optionally ``ALGOTRADE_IB_HOST``,
``ALGOTRADE_IB_CLIENT_ID``) is set.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from artifacts.io import read_artifact, sha256_file
from artifacts.models.account_config import AccountConfig
from gates.g6_account_probe import AccountProbeGate
from tests.test_gates.gateway import REAL_PORT, ib_endpoint
from tests.test_gates.support import context

pytestmark = [pytest.mark.stage6, pytest.mark.integration]


def test_probe_over_the_tws_api_is_read_only_and_sees_buying_power(tmp_path: Path) -> None:
    with ib_endpoint() as ep:
        ctx = context(tmp_path, broker="ib", host=ep.host, port=ep.port, client_id=ep.client_id)
        result = AccountProbeGate().run(ctx)
    account = read_artifact(tmp_path / "ACCOUNT_CONFIG.json", AccountConfig)
    assert result.verdict == "PASS", result.failed_conditions
    assert account.connected and account.read_only
    assert account.broker_kind == "ib" and account.port == ep.port
    assert account.buying_power is not None and account.buying_power > 0
    assert account.trading_mode == "paper"
    assert account.account_id_masked is not None and "*" in account.account_id_masked
    assert result.artifacts[0].sha256 == sha256_file(tmp_path / "ACCOUNT_CONFIG.json")


@pytest.mark.skipif(REAL_PORT is not None, reason="needs a closed port; a gateway is configured")
def test_probe_of_an_unreachable_gateway_fails_and_says_why(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = AccountProbeGate().run(context(tmp_path, broker="ib", port=port, client_id=5))
    assert result.verdict == "FAIL"
    failed = result.failed_conditions[0]
    assert failed.condition == "read-only connection successful"
    assert f"127.0.0.1:{port}" in (failed.detail or "")
    assert not read_artifact(tmp_path / "ACCOUNT_CONFIG.json", AccountConfig).connected


def test_probe_of_an_account_without_buying_power_fails(tmp_path: Path) -> None:
    result = AccountProbeGate().run(context(tmp_path, broker="sim", sim_cash=0.0))
    assert result.verdict == "FAIL"
    [failed] = result.failed_conditions
    assert failed.condition == "buying_power > 0" and failed.measured == 0.0
