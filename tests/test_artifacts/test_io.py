"""Validated atomic writes, validated reads, hashing, CSV artifacts."""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from artifacts.io import (
    ArtifactError,
    atomic_write_bytes,
    atomic_write_text,
    is_temp_file,
    read_artifact,
    read_csv_artifact,
    sha256_file,
    write_artifact,
    write_csv_artifact,
    write_csv_header_only,
)
from artifacts.models.latency_baseline import LatencyBaseline
from artifacts.models.paper_trading_metrics import PaperTradingMetricsRow

T0 = datetime(2026, 11, 2, 14, 30, tzinfo=UTC)


def baseline(**changes: object) -> LatencyBaseline:
    data: dict[str, object] = {
        "generated_at": T0,
        "tool_version": "0.1.0",
        "broker_kind": "sim",
        "samples": 500,
        "p50_ms": 1.5,
        "p95_ms": 3.0,
        "p99_ms": 4.5,
        "mean_ms": 1.8,
        "max_ms": 9.0,
        "measured_from": T0,
        "measured_to": T0,
    }
    data.update(changes)
    return LatencyBaseline.model_validate(data)


def metrics_row(i: int, **changes: object) -> PaperTradingMetricsRow:
    data: dict[str, object] = {
        "timestamp": T0.replace(minute=i % 60),
        "pnl": 12.5 * i - 3,
        "pnl_fraction": 0.0001 * i,
        "drawdown": 0.01,
        "psr": None if i < 3 else 0.7,
        "orders": 2 * i,
        "fills": 2 * i,
        "fill_rate": None if i == 0 else 1.0,
        "latency_p50_ms": 1.25,
        "pacing_violations": 0,
    }
    data.update(changes)
    return PaperTradingMetricsRow.model_validate(data)


def test_write_then_read_round_trip_and_hash(tmp_path: Path) -> None:
    model = baseline()
    written = write_artifact(tmp_path / "LATENCY_BASELINE.json", model)
    raw = written.path.read_bytes()
    assert written.sha256 == hashlib.sha256(raw).hexdigest() == sha256_file(written.path)
    assert written.bytes == len(raw)
    assert read_artifact(written.path) == model
    assert read_artifact(written.path, LatencyBaseline) == model
    assert json.loads(raw)["generated_at"] == "2026-11-02T14:30:00Z"


def test_write_is_deterministic(tmp_path: Path) -> None:
    a = write_artifact(tmp_path / "a" / "LATENCY_BASELINE.json", baseline())
    b = write_artifact(tmp_path / "b" / "LATENCY_BASELINE.json", baseline())
    assert a.sha256 == b.sha256


def test_invalid_model_is_refused_before_writing_and_old_file_untouched(tmp_path: Path) -> None:
    target = tmp_path / "LATENCY_BASELINE.json"
    write_artifact(target, baseline())
    before = target.read_bytes()
    # model_construct skips pydantic validation: only the JSON Schema can catch this.
    bad = LatencyBaseline.model_construct(**{**baseline().__dict__, "samples": 0})
    with pytest.raises(ArtifactError) as info:
        write_artifact(target, bad)
    assert "samples" in str(info.value)
    assert "refused to write" in str(info.value)
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["LATENCY_BASELINE.json"]


def test_read_reports_file_field_and_value(tmp_path: Path) -> None:
    target = tmp_path / "LATENCY_BASELINE.json"
    data = baseline().model_dump(mode="json")
    data["p95_ms"] = -1
    target.write_text(json.dumps(data))
    with pytest.raises(ArtifactError) as info:
        read_artifact(target)
    issue = next(i for i in info.value.issues if i.path == "p95_ms")
    assert issue.file == str(target)
    assert issue.value == -1
    assert "p95_ms" in str(info.value) and str(target) in str(info.value)


def test_read_catches_rule_only_the_model_knows(tmp_path: Path) -> None:
    target = tmp_path / "LATENCY_BASELINE.json"
    data = baseline().model_dump(mode="json")
    data["p50_ms"] = 5.0  # p50 > p95: valid per schema, refused by the model
    target.write_text(json.dumps(data))
    with pytest.raises(ArtifactError, match="percentiles must be ordered"):
        read_artifact(target)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "not valid JSON"),
        (b"\xff\xfe\x00garbage", "not UTF-8"),
        (b"[1, 2]", "unknown artifact"),
    ],
)
def test_unreadable_files_are_reported(tmp_path: Path, content: bytes, message: str) -> None:
    target = tmp_path / "mystery.json"
    target.write_bytes(content)
    with pytest.raises(ArtifactError, match=message):
        read_artifact(target)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match="not found"):
        read_artifact(tmp_path / "LATENCY_BASELINE.json")


def test_detection_by_content_for_unregistered_names(tmp_path: Path) -> None:
    written = write_artifact(tmp_path / "baseline-2026-11-02.json", baseline())
    assert isinstance(read_artifact(written.path), LatencyBaseline)


def test_non_utc_timestamps_are_refused() -> None:
    from datetime import timedelta, timezone

    with pytest.raises(ValueError, match="UTC"):
        baseline(generated_at=datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=2))))
    with pytest.raises(ValueError, match="timezone"):
        baseline(generated_at=datetime(2026, 1, 1))


def test_nan_is_refused() -> None:
    with pytest.raises(ValueError):
        baseline(mean_ms=float("nan"))


def test_atomic_write_failure_leaves_old_file_and_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "state.json"
    atomic_write_text(target, "old")

    def boom(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        atomic_write_bytes(target, b"new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]


def test_atomic_write_creates_parents_and_sets_readable_mode(tmp_path: Path) -> None:
    target = atomic_write_bytes(tmp_path / "a" / "b" / "x.bin", b"\x00\x01")
    assert target.read_bytes() == b"\x00\x01"
    assert target.stat().st_mode & 0o777 == 0o644


def test_temp_file_names() -> None:
    assert is_temp_file(".ACCOUNT_CONFIG.json.k3j4.tmp")
    assert not is_temp_file("ACCOUNT_CONFIG.json")
    assert not is_temp_file(".hidden")


def test_csv_round_trip(tmp_path: Path) -> None:
    rows = [metrics_row(i) for i in range(5)]
    written = write_csv_artifact(tmp_path / "PAPER_TRADING_METRICS.csv", rows)
    lines = written.path.read_text().splitlines()
    assert lines[0].split(",") == list(PaperTradingMetricsRow.header())
    assert len(lines) == 6
    assert read_csv_artifact(written.path, PaperTradingMetricsRow) == rows


def test_csv_header_only(tmp_path: Path) -> None:
    written = write_csv_header_only(tmp_path / "PAPER_TRADING_METRICS.csv", PaperTradingMetricsRow)
    assert read_csv_artifact(written.path, PaperTradingMetricsRow) == []


def test_csv_invalid_row_refused_before_write(tmp_path: Path) -> None:
    good = metrics_row(1)
    bad = PaperTradingMetricsRow.model_construct(**{**good.__dict__, "drawdown": 1.5})
    with pytest.raises(ArtifactError, match=r"rows\[1\]\.drawdown"):
        write_csv_artifact(tmp_path / "PAPER_TRADING_METRICS.csv", [good, bad])
    assert not (tmp_path / "PAPER_TRADING_METRICS.csv").exists()


def test_csv_read_errors_name_line_and_column(tmp_path: Path) -> None:
    target = tmp_path / "PAPER_TRADING_METRICS.csv"
    write_csv_artifact(target, [metrics_row(1), metrics_row(2)])
    lines = target.read_text().splitlines()
    cells = lines[2].split(",")
    cells[PaperTradingMetricsRow.header().index("fills")] = "-4"
    lines[2] = ",".join(cells)
    target.write_text("\n".join(lines) + "\n")
    with pytest.raises(ArtifactError) as info:
        read_csv_artifact(target, PaperTradingMetricsRow)
    assert any(i.path == "line 3.fills" for i in info.value.issues), info.value


def test_csv_wrong_header(tmp_path: Path) -> None:
    target = tmp_path / "PAPER_TRADING_METRICS.csv"
    target.write_text("timestamp,pnl,bogus\n")
    with pytest.raises(ArtifactError, match="unexpected \\['bogus'\\]"):
        read_csv_artifact(target, PaperTradingMetricsRow)


finite = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12)


@given(
    pnl=finite,
    drawdown=st.floats(min_value=0, max_value=1),
    fills=st.integers(min_value=0, max_value=10**9),
    psr=st.none() | st.floats(min_value=0, max_value=1),
)
def test_csv_rows_round_trip_exactly(
    tmp_path_factory: pytest.TempPathFactory,
    pnl: float,
    drawdown: float,
    fills: int,
    psr: float | None,
) -> None:
    row = metrics_row(1, pnl=pnl, drawdown=drawdown, fills=fills, psr=psr)
    target = tmp_path_factory.mktemp("csv") / "PAPER_TRADING_METRICS.csv"
    write_csv_artifact(target, [row])
    assert read_csv_artifact(target, PaperTradingMetricsRow) == [row]


def test_artifact_refs_pin_the_written_bytes(tmp_path: Path) -> None:
    from artifacts.io import artifact_ref

    written = write_artifact(tmp_path / "out" / "LATENCY_BASELINE.json", baseline())
    ref = written.ref(root=tmp_path)
    assert ref.path == "out/LATENCY_BASELINE.json"
    assert ref.artifact_type == "latency_baseline"
    assert artifact_ref(written.path, root=tmp_path) == ref
    other = tmp_path / "chart.png"
    other.write_bytes(b"\x89PNG")
    png = artifact_ref(other)
    assert png.artifact_type is None and png.bytes == 4
    assert png.sha256 == hashlib.sha256(b"\x89PNG").hexdigest()


@given(
    samples=st.integers(min_value=1, max_value=10**9),
    percentiles=st.lists(
        st.floats(min_value=0, max_value=1e6, allow_nan=False), min_size=4, max_size=4
    ),
    seed=st.none() | st.integers(min_value=-(2**63), max_value=2**63 - 1),
    note=st.text(max_size=50),
)
def test_json_artifacts_round_trip_exactly(
    tmp_path_factory: pytest.TempPathFactory,
    samples: int,
    percentiles: list[float],
    seed: int | None,
    note: str,
) -> None:
    p50, p95, p99, top = sorted(percentiles)
    model = baseline(
        samples=samples, p50_ms=p50, p95_ms=p95, p99_ms=p99, max_ms=top, seed=seed, notes=(note,)
    )
    written = write_artifact(tmp_path_factory.mktemp("rt") / "LATENCY_BASELINE.json", model)
    assert read_artifact(written.path) == model
    assert sha256_file(written.path) == written.sha256


def test_missing_checked_in_schema_names_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import artifacts.io

    monkeypatch.setattr(artifacts.io, "SCHEMA_DIR", tmp_path / "no-schemas")
    with pytest.raises(ArtifactError, match="run `algotrade schemas export`"):
        write_artifact(tmp_path / "LATENCY_BASELINE.json", baseline())
    assert not (tmp_path / "LATENCY_BASELINE.json").exists()
