"""The validation benchmark's generated corpus is what it claims: valid messages plus ~1% broken."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.bench_validate import main, write_corpus
from contracts.stream import validate_stream

pytestmark = pytest.mark.unit


def test_generated_corpus_counts_match_the_validator(tmp_path: Path) -> None:
    path = tmp_path / "m.ndjson"
    invalid = write_corpus(path, 3000)
    assert invalid == 30
    with path.open("rb") as f:
        summary = validate_stream(f)
    assert (summary.total, summary.invalid) == (3000, 30)
    assert set(summary.by_type) == {
        "bar_event",
        "tick_event",
        "ofi_event",
        "order_intent",
        "execution_report",
    }


def test_benchmark_runs_end_to_end_on_a_tiny_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import benchmarks.bench_validate as bench

    monkeypatch.setattr(bench, "RESULTS", tmp_path / "validate.json")
    code = main(["--lines", "2000", "--sample", "100", "--repeats", "1", "--no-cli"])
    assert code in (0, 1)  # timing targets are not asserted on a tiny, noisy run
    assert (tmp_path / "validate.json").exists()
