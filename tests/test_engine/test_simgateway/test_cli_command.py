"""``algotrade sim-gateway``: foreground server, status output, clean shutdown.

(CLI tests for this command live next to the gateway tests because this folder is the
gateway's; they drive the real CLI in-process and as a subprocess.)
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from ib_async import IB, MarketOrder, Stock

from tests.support.cli import run_cli
from tests.test_engine.test_simgateway.support import run, wait_until

pytestmark = [pytest.mark.integration]
REPO = Path(__file__).resolve().parents[3]


def test_runs_for_a_while_and_stops_cleanly() -> None:
    result = run_cli("--json", "sim-gateway", "--port", "0", "--run-for", "0.3", "--seed", "3")
    assert result.exit_code == 0, result.stderr
    assert re.search(r"listening on 127\.0\.0\.1:\d+ \(account DU\d+", result.stderr)
    assert '"account": "DU7654321"' in result.stdout
    assert "stopped after" in result.stderr


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--faults", "explode"], "unknown fault 'explode'"),
        (["--faults", "withhold=nope"], "unknown End message"),
        (["--server-version", "200"], "server_version 200 is not supported"),
        (["--prices", "bogus"], "choose synthetic or random-walk"),
    ],
)
def test_bad_options_are_usage_errors(args: list[str], needle: str) -> None:
    result = run_cli("sim-gateway", "--port", "0", "--run-for", "0", *args)
    assert result.exit_code == 2
    assert needle in result.stderr


def test_warns_about_live_style_account() -> None:
    result = run_cli("sim-gateway", "--port", "0", "--run-for", "0", "--account", "U1234567")
    assert result.exit_code == 0
    assert "not paper-style" in result.stderr


def _start(*args: str) -> tuple[subprocess.Popen[str], int, list[str]]:
    """Start the command; a reader thread collects stderr lines until the process ends."""
    env = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "algotrade_cli", "sim-gateway", "--port", "0", *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []

    def pump() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.append(line)

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        for line in list(lines):
            match = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
            if match:
                return proc, int(match.group(1)), lines
        if proc.poll() is not None:
            break
        time.sleep(0.02)
    proc.kill()
    raise AssertionError(f"sim-gateway did not report its port: {lines}")


@pytest.mark.slow
@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 0), (signal.SIGINT, 130)])
def test_plain_ib_async_trades_against_the_command_then_signal_stops_it(
    sig: signal.Signals, code: int
) -> None:
    proc, port, lines = _start("--faults", "dup-fill=1", "--prices", "random-walk")
    try:

        async def trade() -> None:
            ib = IB()
            await ib.connectAsync("127.0.0.1", port, clientId=1, timeout=5)
            [aapl] = await ib.qualifyContractsAsync(Stock("AAPL", "SMART", "USD"))
            t = ib.placeOrder(aapl, MarketOrder("BUY", 5))
            await wait_until(lambda: t.isDone() and t.fills[0].commissionReport.commission > 0)
            assert ib.positions()[0].position == 5
            ib.disconnect()
            await asyncio.sleep(0.1)

        run(trade())
        proc.send_signal(sig)
        proc.wait(timeout=15)
        drained = time.monotonic() + 5
        while not any(" after " in line for line in lines) and time.monotonic() < drained:
            time.sleep(0.02)  # the reader thread drains the pipe
    finally:
        if proc.poll() is None:
            proc.kill()
    err = "".join(lines)
    assert proc.returncode == code, err
    assert ("interrupted after" if code else "stopped after") in err
    assert "fills=1" in err and "faults armed: duplicate_fills=1" in err


def test_cli_default_account_is_the_gateway_default() -> None:
    from algotrade_cli.simgateway import DEFAULT_ACCOUNT as CLI_DEFAULT
    from engine.broker.simgateway import DEFAULT_ACCOUNT

    assert CLI_DEFAULT == DEFAULT_ACCOUNT and DEFAULT_ACCOUNT.startswith("DU")
