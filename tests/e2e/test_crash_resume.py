"""kill -9 in the middle of a session, then resume: no intent reaches the broker twice, no fill is
lost, and the book rebuilt from the journal equals the broker's truth."""

from __future__ import annotations

import asyncio
import os
import pickle
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from contracts.messages import ExecutionReport, OrderIntent
from contracts.topics import EXECUTION_REPORTS, ORDER_INTENTS
from engine.bus import open_bus
from engine.config import BusConfig
from engine.planes.session import EXCHANGE_FILE, run_paper_session
from tests.e2e.conftest import small_config, small_params

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]

CHILD = """
import sys
from pathlib import Path
from tests.e2e.conftest import small_config, small_params
from engine.planes.session import run_paper_session
tmp = Path(sys.argv[1])
run_paper_session(small_config(tmp), out_dir=tmp / "out", speed=60.0, duration_hours=0.5,
                  params=small_params())
"""


def _journal(out: Path, topic: str) -> list[object]:
    async def read() -> list[object]:
        bus = open_bus(BusConfig(), out / "session")
        await bus.start()
        values = [r.value async for r in bus.replay(topic, 0)]
        await bus.close()
        return values

    return asyncio.run(read())


def test_kill_minus_nine_then_resume(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(tmp_path)], cwd=REPO, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    orders = tmp_path / "out" / "session" / "orders.jsonl"
    deadline = time.monotonic() + 40
    try:
        while time.monotonic() < deadline and child.poll() is None:
            if orders.is_file() and len(orders.read_text().splitlines()) >= 4:
                break
            time.sleep(0.02)
        assert child.poll() is None, f"the session ended before the kill: {child.stderr}"
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == -signal.SIGKILL
    placed_before = len(orders.read_text().splitlines())

    cfg = small_config(tmp_path)
    result = run_paper_session(
        cfg, out_dir=tmp_path / "out", speed=5000.0, duration_hours=0.5, params=small_params(),
        resume=True,
    )  # fmt: skip
    assert result.status == "completed", result.message
    assert result.resumed == 1

    out = tmp_path / "out"
    exchange = pickle.loads((out / "session" / EXCHANGE_FILE).read_bytes())
    refs = Counter(o.order_ref for o in exchange.orders() if o.order_ref)
    assert refs and max(refs.values()) == 1, "an intent was placed twice"
    intents = [v for v in _journal(out, ORDER_INTENTS) if isinstance(v, OrderIntent)]
    assert len(intents) > placed_before >= 4
    assert len({i.intent_id for i in intents}) == len(intents)
    reports = [v for v in _journal(out, EXECUTION_REPORTS) if isinstance(v, ExecutionReport)]
    reported = {r.exec_id for r in reports if r.exec_id}
    at_broker = {f.exec_id for f in exchange.executions()}
    assert at_broker == reported, "a fill was lost (or reported that the broker never made)"
    booked: Counter[str] = Counter()
    for r in reports:
        if r.exec_id and r.last_fill_quantity:
            booked[r.symbol] += r.last_fill_quantity * (1 if r.direction == "BUY" else -1)
    truth = {p.symbol: p.quantity for p in exchange.positions() if p.quantity}
    assert {s: q for s, q in booked.items() if q} == truth
