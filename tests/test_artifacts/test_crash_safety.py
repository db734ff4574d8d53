"""kill -9 in the middle of artifact writes leaves the complete old or the complete new file."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import pytest

from artifacts.check import check_directory
from artifacts.io import dump_artifact, is_temp_file, read_artifact, sha256_bytes
from artifacts.models.backtest_report import BacktestReport, SignalTimeSeries
from tests.test_artifacts.examples import backtest_report

REPO = Path(__file__).resolve().parents[2]

WRITER = """
import sys
from pathlib import Path
from artifacts.io import atomic_write_bytes, write_artifact
from artifacts.models.backtest_report import BacktestReport

target, model_json, *payload_files = sys.argv[1:]
# one write through the full validated path, then the same bytes write_artifact produces, as fast
# as possible, so that the kill nearly always lands inside a write
write_artifact(Path(target), BacktestReport.model_validate_json(Path(model_json).read_text()))
payloads = [Path(p).read_bytes() for p in payload_files]
print("ready", flush=True)
i = 0
while True:
    atomic_write_bytes(target, payloads[i % 2])
    i += 1
"""


def big_report(variant: int) -> BacktestReport:
    """A report of more than a megabyte (long text fields validate fast, so the writer spends its
    time writing, which is where a kill has to land)."""
    names = ("ofi", "ern", "vrp", "pos", "tsx", "sif")
    days = 200
    start = date(2016, 1, 4)
    series = SignalTimeSeries(
        dates=tuple(start + timedelta(days=t) for t in range(days)),
        names=names,
        ics=tuple(
            tuple(((t * 7 + k * 13 + variant) % 97) / 1000 for k in range(6)) for t in range(days)
        ),
        weights=tuple(tuple(1 / 6 for _ in names) for _ in range(days)),
    )
    notes = tuple(f"{variant}:{i}:" + "x" * 600 for i in range(2000))
    return backtest_report().model_copy(
        update={"signal_timeseries": series, "runtime_seconds": float(variant), "warnings": notes}
    )


@pytest.mark.slow
def test_sigkill_mid_write_never_leaves_a_torn_file(tmp_path: Path) -> None:
    old, new = big_report(1), big_report(2)
    hashes = {sha256_bytes(dump_artifact(old)), sha256_bytes(dump_artifact(new))}
    assert len(dump_artifact(old)) > 1_000_000
    payloads = []
    for name, model in (("old.json", old), ("new.json", new)):
        src = tmp_path / name
        src.write_bytes(dump_artifact(model))
        payloads.append(str(src))
    model_json = tmp_path / "model.json"
    model_json.write_text(old.model_dump_json())
    out = tmp_path / "out"
    out.mkdir()
    target = out / "BACKTEST_REPORT.json"
    rng = random.Random(20261102)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    kills = 0
    mid_write = 0
    for _ in range(8):
        proc = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(target), str(model_json), *payloads],
            stdout=subprocess.PIPE,
            env=env,
            cwd=REPO,
        )
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == b"ready"
        time.sleep(rng.uniform(0.0, 0.15))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        kills += proc.returncode == -signal.SIGKILL
        data = target.read_bytes()
        assert sha256_bytes(data) in hashes, "torn or foreign content after SIGKILL"
        assert read_artifact(target) in (old, new)
        # crashed writers may leave temp files behind; they are named so listings skip them
        others = [p for p in out.iterdir() if p != target]
        assert all(is_temp_file(p) for p in others), others
        mid_write += bool(others)
        for leftover in others:
            leftover.unlink()
        listing = check_directory(out)
        assert [r.path for r in listing.results] == [target]
        assert listing.passed
    assert kills == 8
    # the kills did land inside writes (a temp file was left behind), not only between them
    assert mid_write >= 1
