"""Journal backends: round trip, torn tails, corruption, offsets, schema versions."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from engine.bus.journal import JournalCorruptError, JournalKind, JournalRecord, open_journal
from engine.bus.journal_segments import SegmentJournal, encode_record


def records(n: int, start: int = 0) -> list[JournalRecord]:
    return [
        JournalRecord(
            "market_events",
            i % 2,
            i // 2,
            1_700_000_000_000_000 + i,
            None if i % 5 == 0 else f"SYM{i % 3}",
            f'{{"i":{i}}}'.encode(),
            (("trace", f"t{i}"),) if i % 4 == 0 else (),
        )
        for i in range(start, start + n)
    ]


@pytest.mark.unit
@pytest.mark.parametrize("kind", ["segments", "sqlite"])
@pytest.mark.parametrize("sync", ["normal", "full"])
def test_round_trip_keeps_records_and_last_commit(
    kind: JournalKind, sync: str, tmp_path: Path
) -> None:
    j = open_journal(kind, tmp_path, sync=sync)  # type: ignore[arg-type]
    assert j is not None
    assert j.recover().records == []
    first = records(10)
    j.append(first[:6])
    j.commit_offsets("g", "market_events", {0: 2, 1: 1}, first[6:])
    j.commit_offsets("g", "market_events", {0: 3}, [])
    j.sync()
    j.close()
    j = open_journal(kind, tmp_path, sync=sync)  # type: ignore[arg-type]
    assert j is not None
    report = j.recover()
    assert list(report.records) == first
    assert dict(report.offsets) == {("g", "market_events", 0): 3, ("g", "market_events", 1): 1}
    assert report.torn_bytes == 0
    j.close()


@pytest.mark.unit
def test_none_journal_is_no_journal(tmp_path: Path) -> None:
    assert open_journal("none", tmp_path) is None


@pytest.mark.unit
@pytest.mark.parametrize("cut", [1, 7, 12, 30])
def test_segments_torn_tail_is_cut_off_and_reported(cut: int, tmp_path: Path) -> None:
    j = SegmentJournal(tmp_path)
    j.recover()
    good = records(20)
    j.append(good)
    j.close()
    seg = sorted(tmp_path.glob("*.seg"))[-1]
    size = seg.stat().st_size
    with open(seg, "ab") as fh:  # a frame whose write was interrupted after ``cut`` bytes
        fh.write(encode_record(records(1, start=99)[0])[:cut])
    j = SegmentJournal(tmp_path)
    report = j.recover()
    assert list(report.records) == good
    assert report.torn_bytes == cut and report.notes
    assert seg.stat().st_size == size
    j.append(records(1, start=20))  # appending after recovery continues the clean log
    j.close()
    report = SegmentJournal(tmp_path).recover()
    assert list(report.records) == [*good, *records(1, start=20)]
    assert report.torn_bytes == 0


@pytest.mark.unit
def test_segments_bad_crc_in_tail_frame_is_torn(tmp_path: Path) -> None:
    j = SegmentJournal(tmp_path)
    j.recover()
    j.append(records(5))
    j.close()
    seg = sorted(tmp_path.glob("*.seg"))[-1]
    data = bytearray(seg.read_bytes())
    data[-3] ^= 0xFF  # flip a byte of the last frame's payload
    seg.write_bytes(bytes(data))
    report = SegmentJournal(tmp_path).recover()
    assert list(report.records) == records(4)
    assert report.torn_bytes > 0


@pytest.mark.unit
def test_segments_roll_over_and_corruption_before_the_tail_refuses(tmp_path: Path) -> None:
    j = SegmentJournal(tmp_path, segment_bytes=4096)
    j.recover()
    many = records(400)
    for start in range(0, 400, 10):
        j.append(many[start : start + 10])
    j.close()
    segments = sorted(tmp_path.glob("*.seg"))
    assert len(segments) > 3
    assert list(SegmentJournal(tmp_path, segment_bytes=4096).recover().records) == many
    data = bytearray(segments[1].read_bytes())
    data[40] ^= 0xFF
    segments[1].write_bytes(bytes(data))
    with pytest.raises(JournalCorruptError, match="not the last segment"):
        SegmentJournal(tmp_path, segment_bytes=4096).recover()


@pytest.mark.unit
def test_segments_refuse_to_write_before_recovery(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="recover"):
        SegmentJournal(tmp_path).append(records(1))


@pytest.mark.unit
def test_sqlite_rejects_a_journal_of_another_schema_version(tmp_path: Path) -> None:
    j = open_journal("sqlite", tmp_path)
    assert j is not None
    j.close()
    db = sqlite3.connect(tmp_path / "bus.sqlite3")
    db.execute("UPDATE meta SET value='0' WHERE name='schema_version'")
    db.commit()
    db.close()
    with pytest.raises(RuntimeError, match="schema_version='0'"):
        open_journal("sqlite", tmp_path)


@pytest.mark.unit
def test_sqlite_uses_wal(tmp_path: Path) -> None:
    j = open_journal("sqlite", tmp_path)
    assert j is not None
    j.recover()
    j.append(records(3))
    db = sqlite3.connect(tmp_path / "bus.sqlite3")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("SELECT count(*) FROM records").fetchone()[0] == 3
    db.close()
    j.close()
