"""The three planes as three processes over a real Kafka-protocol broker (Tansu on loopback).

One paper session runs twice with the same seed and config: in one process on the embedded bus
(``algotrade paper-session``), and as ``algotrade plane data|strategy|order`` processes on
Kafka, where the order plane is killed with SIGKILL right after it has sent orders of a decision
and started again, and later the strategy plane is stopped with SIGTERM and started again. The split run must do exactly what the embedded run did — the same intents,
orders and fills at the same prices, the same P&L and samples, the same gate-7 verdicts — with
no order placed twice (the simulated exchange's own order book is checked) and no fill lost.
"""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from artifacts.io import read_artifact
from artifacts.models.paper_trading_log import PaperTradingLog
from engine.config import load_config
from gates.paper_judge import judge_paper
from tests.support.kafka_broker import TansuBroker, free_port, kafka_broker  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.slow]

DURATION = "0.5"  # market hours: 30 one-minute bars, a decision every 5 bars
SESSION = "split-e2e"


def _config(tmp: Path, bootstrap: str) -> Path:
    path = tmp / "config.yaml"
    path.write_text(
        "market:\n  years: 1.2\n  n_assets: 12\n"
        "regime:\n  enabled: false\n"
        "session:\n  metrics_port: 0\n"
        f"bus:\n  kafka_bootstrap: '{bootstrap}'\n  kafka_session_timeout_ms: 3000\n",
        encoding="utf-8",
    )
    return path


def _env(state: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALGOTRADE_")}
    env["ALGOTRADE_PATHS__STATE"] = str(state)
    return env


def _cli(config: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "algotrade_cli", "--config", str(config), *args]


def _plane(config: Path, plane: str, out: Path, state: Path, *extra: str) -> subprocess.Popen[str]:
    session = f"{SESSION}-{out.name}"  # one session (its own topics) per test
    cmd = _cli(config, "plane", plane, "--session-id", session, "--bus", "kafka", "--out",
               str(out), "--duration", DURATION, "--json", *extra)  # fmt: skip
    return subprocess.Popen(
        cmd, env=_env(state), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _finish(proc: subprocess.Popen[str], timeout: float) -> tuple[int, str, str]:
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError(
            f"{proc.args!r} did not finish in {timeout:g} s; stderr:\n{err!s}"
        ) from None
    return proc.returncode, out, err


def _orders_sent(log: Path) -> list[str]:
    if not log.is_file():
        return []
    rows = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line]
    return [r["intent_id"] for r in rows if r.get("event") == "order_sent"]


def _trace(log: PaperTradingLog) -> list[tuple[Any, ...]]:
    """Per intent (in decision order): symbol, side, size, decision price, fate and its fills."""
    rows = []
    for t in log.trades:
        o = t.order
        fills = () if o is None else tuple((f.quantity, f.price) for f in o.fills)
        rows.append((t.created_at, t.symbol, t.direction, t.quantity, t.decision_price,
                     t.risk_rejected, None if o is None else o.final_status, fills))  # fmt: skip
    return sorted(rows)


def _verdicts(log: PaperTradingLog) -> list[tuple[str, bool]]:
    gates = load_config(None, {}).gates
    return [(e.condition, e.passed) for e in judge_paper(log, gates, backtest=None)]


@pytest.fixture(scope="module")
def reference(
    tmp_path_factory: pytest.TempPathFactory,
    kafka_broker: TansuBroker,  # noqa: F811
) -> tuple[Path, Path, PaperTradingLog]:
    """The config, and the reference session: one process, embedded bus."""
    tmp = tmp_path_factory.mktemp("split")
    config = _config(tmp, kafka_broker.bootstrap)
    emb_out = tmp / "embedded"
    ref = subprocess.run(
        _cli(config, "paper-session", "--duration", DURATION, "--out", str(emb_out), "--json"),
        env=_env(tmp / "state-embedded"), capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert ref.returncode == 0, ref.stderr
    embedded = read_artifact(emb_out / "PAPER_TRADING_LOG.json", PaperTradingLog)
    assert embedded.summary.trades >= 10, "the reference session must trade to compare anything"
    assert embedded.session.bus_backend == "memory"
    return config, emb_out, embedded


def _same_session(run: PaperTradingLog, run_out: Path, ref: PaperTradingLog, ref_out: Path) -> None:
    """The same decisions, orders and fills, the same figures and samples, the same verdicts."""
    assert _trace(run) == _trace(ref)
    assert run.summary.pnl == pytest.approx(ref.summary.pnl, abs=1e-6)
    assert run.summary.commissions == pytest.approx(ref.summary.commissions, abs=1e-6)
    assert run.summary.max_drawdown == pytest.approx(ref.summary.max_drawdown, abs=1e-12)
    assert run.summary.sharpe_paper == pytest.approx(ref.summary.sharpe_paper, rel=1e-9)
    assert _verdicts(run) == _verdicts(ref)
    ref_rows = (ref_out / "PAPER_TRADING_METRICS.csv").read_text().splitlines()
    run_rows = (run_out / "PAPER_TRADING_METRICS.csv").read_text().splitlines()
    assert [r.split(",")[:4] for r in run_rows] == [r.split(",")[:4] for r in ref_rows]


def test_paper_session_on_kafka_matches_the_embedded_run(
    tmp_path: Path, reference: tuple[Path, Path, PaperTradingLog]
) -> None:
    config, emb_out, embedded = reference
    out = tmp_path / "kafka"
    run = subprocess.run(
        _cli(config, "paper-session", "--bus", "kafka", "--duration", DURATION, "--out", str(out),
             "--json"),
        env=_env(tmp_path / "state"), capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    log = read_artifact(out / "PAPER_TRADING_LOG.json", PaperTradingLog)
    assert log.session.bus_backend == "kafka"
    assert log.session.journal_path is None
    _same_session(log, out, embedded, emb_out)


def test_three_processes_match_the_embedded_run_across_an_order_plane_crash(
    tmp_path: Path, reference: tuple[Path, Path, PaperTradingLog]
) -> None:
    config, emb_out, embedded = reference

    # ---- three processes on Kafka; the order plane is killed mid-session and restarted
    out, state = tmp_path / "split", tmp_path / "state-split"
    metrics_port = free_port()
    data = _plane(config, "data", out, state)
    strategy = _plane(config, "strategy", out, state)
    order = _plane(config, "order", out, state, "--metrics-port", str(metrics_port))
    order_log = out / "logs" / "order_plane.log"
    deadline = time.monotonic() + 180
    while len(_orders_sent(order_log)) < 4 and time.monotonic() < deadline:
        assert order.poll() is None, order.communicate()[1]
        time.sleep(0.02)
    sent_before = len(_orders_sent(order_log))
    assert sent_before >= 4, "the order plane sent no orders to crash in the middle of"
    with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5) as resp:
        assert b"bus_published_total" in resp.read()
    order.send_signal(signal.SIGKILL)
    order.wait(10)
    restarted = _plane(config, "order", out, state)
    # then the strategy plane is stopped gracefully (SIGTERM: exit 130) once more orders went out,
    # and started again: it resumes from its committed offsets
    while len(_orders_sent(order_log)) < sent_before + 4 and time.monotonic() < deadline:
        assert restarted.poll() is None, restarted.communicate()[1]
        time.sleep(0.02)
    assert len(_orders_sent(order_log)) >= sent_before + 4
    strategy.send_signal(signal.SIGTERM)
    c, _o, e = _finish(strategy, 30)
    assert c == 130, e
    strategy = _plane(config, "strategy", out, state)
    code, stdout, err = _finish(restarted, 240)
    assert code == 0, err
    for proc in (data, strategy):
        c, _o, e = _finish(proc, 60)
        assert c == 0, e
    summary = json.loads(stdout)
    split = read_artifact(out / "PAPER_TRADING_LOG.json", PaperTradingLog)

    _same_session(split, out, embedded, emb_out)
    assert split.session.bus_backend == "kafka"
    assert split.session.resumed == 1

    # no order placed twice: once per intent in the plane's log and in the exchange's own book
    sent = Counter(_orders_sent(order_log))
    assert sent and max(sent.values()) == 1
    exchange = pickle.loads((out / "session" / "sim_exchange.pkl").read_bytes())
    refs = Counter(o.spec.order_ref for o in exchange._orders.values())
    assert max(refs.values()) == 1
    assert len(refs) == split.summary.orders_submitted == embedded.summary.orders_submitted
    # no fill lost: every order filled and reported, as in the reference
    assert summary["fills"] == embedded.summary.fills
    assert split.summary.orders_filled == split.summary.orders_submitted


def test_three_processes_with_ibkr_against_the_simulated_gateway(
    tmp_path: Path, reference: tuple[Path, Path, PaperTradingLog]
) -> None:
    """With IBKR the data plane builds its bars from its own read-only connection's quotes and
    the order plane trades through ib_async; the session completes and is judged."""
    config, _emb_out, _embedded = reference
    port = free_port()
    gateway = subprocess.Popen(
        _cli(config, "sim-gateway", "--port", str(port)), env=_env(tmp_path / "gw"),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                break
            time.sleep(0.05)
        out, state = tmp_path / "split-ib", tmp_path / "state-ib"
        ib = ("--broker", "ib", "--port", str(port), "--speed", "120")
        data = _plane(config, "data", out, state, *ib)
        strategy = _plane(config, "strategy", out, state, "--speed", "120")
        order = _plane(config, "order", out, state, *ib)
        code, stdout, err = _finish(order, 240)
        assert code == 0, err
        for proc in (data, strategy):
            c, _o, e = _finish(proc, 60)
            assert c == 0, e
    finally:
        gateway.send_signal(signal.SIGINT)
        try:
            gateway.wait(10)
        except subprocess.TimeoutExpired:
            gateway.kill()
    log = read_artifact(out / "PAPER_TRADING_LOG.json", PaperTradingLog)
    assert log.session.broker_kind == "ib" and log.session.bus_backend == "kafka"
    assert log.summary.trades > 0 and log.summary.orders_filled == log.summary.orders_submitted
    assert json.loads(stdout)["broker"] == "ib"
    data_log = (out / "logs" / "data_plane.log").read_text(encoding="utf-8")
    assert '"event":"market_data","source":"broker"' in data_log
