"""Property: any record survives the segment format, and any cut of the tail is detected."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.bus.journal import JournalRecord
from engine.bus.journal_segments import SegmentJournal, encode_record

text = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=20)
records = st.builds(
    JournalRecord,
    topic=st.sampled_from(["market_events", "order_intents", "dlq_execution_reports"]),
    partition=st.integers(0, 31),
    offset=st.integers(0, 2**40),
    timestamp_us=st.integers(-(2**62), 2**62),
    key=st.none() | text,
    value=st.binary(max_size=300),
    headers=st.lists(st.tuples(text, text), max_size=3).map(tuple),
)


@pytest.mark.property
@given(batch=st.lists(records, min_size=1, max_size=8), cut=st.integers(1, 10_000))
def test_round_trip_and_every_torn_tail_is_cut(batch: list[JournalRecord], cut: int) -> None:
    with tempfile.TemporaryDirectory() as d:
        path = Path(d)
        j = SegmentJournal(path)
        j.recover()
        j.append(batch[:-1])
        j.close()
        last = encode_record(batch[-1])
        seg = sorted(path.glob("*.seg"))[-1]
        with open(seg, "ab") as fh:
            fh.write(last[: cut % len(last)])  # 0 .. len-1 bytes of the last frame
        report = SegmentJournal(path).recover()
        assert list(report.records) == batch[:-1]
        assert report.torn_bytes == cut % len(last)
        with open(seg, "ab") as fh:
            fh.write(last)
        assert list(SegmentJournal(path).recover().records) == batch
