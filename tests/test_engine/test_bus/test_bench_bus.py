"""The bus benchmark runs end to end on a small input (so it cannot rot between releases)."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.bench_bus import journal_alone, make_messages, run
from contracts.validation import validate_message
from engine.bus.journal import JournalKind, SyncMode


@pytest.mark.unit
def test_benchmark_messages_are_valid_and_distinct() -> None:
    messages = make_messages(500)
    assert len({raw for _, raw in messages}) == 500
    assert all(validate_message(raw).is_valid for _, raw in messages[:50])


@pytest.mark.integration
def test_small_run_reports_every_configuration_against_the_baseline(tmp_path: Path) -> None:
    configs: list[tuple[JournalKind, SyncMode]] = [
        ("none", "normal"),
        ("segments", "normal"),
        ("sqlite", "full"),
    ]
    rows = run(2000, configs, repeat=1, scratch=tmp_path)
    by_name = {r["journal"]: r for r in rows}
    assert set(by_name) == {"none", "segments/normal", "sqlite/full"}
    assert by_name["none"]["cost_vs_memory"] == 1.0
    assert all(int(r["messages"]) == 2000 and float(r["seconds"]) > 0 for r in rows)
    assert int(by_name["segments/normal"]["journal_bytes"]) > 2000 * 100
    assert float(by_name["sqlite/full"]["recovery_seconds"]) > 0


@pytest.mark.integration
def test_journal_alone_appends_and_recovers_every_record(tmp_path: Path) -> None:
    rows = journal_alone(
        3000, [("none", "normal"), ("segments", "full"), ("sqlite", "normal")], tmp_path
    )
    assert [r["journal"] for r in rows] == ["segments/full", "sqlite/normal"]
    assert all(int(r["append_per_s"]) > 0 and int(r["recover_per_s"]) > 0 for r in rows)
