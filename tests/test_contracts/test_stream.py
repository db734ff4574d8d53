"""validate_stream: format detection, line numbers, streaming without loading NDJSON whole."""

from __future__ import annotations

import io
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts import stream as stream_mod
from contracts.stream import InvalidMessage, StreamSummary, validate_stream
from tests.test_contracts.corpus import CORPUS_DIR

pytestmark = pytest.mark.unit

SEEDS = [json.loads(p.read_text()) for p in sorted((CORPUS_DIR / "positive").glob("*/seed_*.json"))]
LINES = [json.dumps(s) for s in SEEDS]


def run(data: bytes, message_type: str | None = None) -> tuple[StreamSummary, list[InvalidMessage]]:
    bad: list[InvalidMessage] = []
    summary = validate_stream(io.BytesIO(data), message_type, bad.append)
    return summary, bad


def test_ndjson_counts_per_type_and_line_numbers() -> None:
    text = "\n".join([*LINES, "", '{"event_type": "tick_event"}', "not json", *LINES]) + "\n"
    summary, bad = run(text.encode())
    assert summary.input_format == "ndjson"
    assert (summary.valid, summary.invalid, summary.blank_lines) == (2 * len(LINES), 2, 1)
    assert [b.line for b in bad] == [len(LINES) + 2, len(LINES) + 3]
    assert bad[0].result.message_type == "tick_event"
    assert summary.by_type["tick_event"][1] == 1 and summary.by_type["unknown"] == [0, 1]
    assert sum(v + i for v, i in summary.by_type.values()) == summary.total


@pytest.mark.parametrize("ending", [b"\n", b"\r\n", b""])
def test_line_endings_and_missing_final_newline(ending: bytes) -> None:
    data = ending.join(line.encode() for line in LINES) + ending
    summary, bad = run(data if ending else b"\n".join(line.encode() for line in LINES))
    assert summary.ok and summary.valid == len(LINES) and not bad


def test_json_array_reports_each_element_with_its_line() -> None:
    broken = dict(SEEDS[0], volume=-1) if "volume" in SEEDS[0] else dict(SEEDS[0], symbol="x")
    text = json.dumps([SEEDS[1], broken, SEEDS[2]], indent=2)
    summary, bad = run(text.encode())
    assert summary.input_format == "array"
    assert (summary.valid, summary.invalid) == (2, 1)
    expected_line = text.splitlines().index("  {", 2) + 1  # second element's opening brace
    assert bad[0].line == expected_line


def test_malformed_array_is_one_invalid_message_not_a_crash() -> None:
    summary, bad = run(b"[" + LINES[0].encode() + b", {oops}]")
    assert (summary.valid, summary.invalid) == (1, 1)
    assert "malformed JSON at line 1" in bad[0].result.errors[0].message


def test_pretty_printed_documents_are_read_as_documents() -> None:
    text = json.dumps(SEEDS[0], indent=2) + "\n" + json.dumps(SEEDS[3], indent=2) + "\n"
    summary, bad = run(text.encode())
    assert summary.input_format == "document"
    assert summary.valid == 2 and not bad


def test_truncated_first_line_falls_back_to_ndjson() -> None:
    text = LINES[0][:40] + "\n" + LINES[1] + "\n" + LINES[2] + "\n"
    summary, bad = run(text.encode())
    assert summary.input_format == "ndjson"
    assert (summary.valid, summary.invalid) == (2, 1) and bad[0].line == 1


@pytest.mark.parametrize("data", [b"", b"   \n\n\t", b"[]", b"[ ]\n"])
def test_empty_inputs_are_one_invalid_message(data: bytes) -> None:
    summary, bad = run(data)
    assert not summary.ok and summary.invalid == 1 and len(bad) == 1


@pytest.mark.parametrize(
    "data",
    [
        bytes(range(256)) * 50,
        b"\x00" * 10_000,
        b"[" * 100_000,
        b'{"a":' * 50_000,
        b"[" + b"[" * 50_000,
        b'{"event_type": "bar_event", "open": 1e400}\n' * 3,
        b'{"event_type": "bar_event", "open": NaN}\n{"x": Infinity}\n',
    ],
)
def test_hostile_inputs_never_raise(data: bytes) -> None:
    summary, bad = run(data)
    assert summary.total >= 1
    assert summary.invalid == len(bad)


def test_explicit_type_validates_against_that_contract() -> None:
    summary, bad = run("\n".join(LINES).encode(), "order_intent")
    intents = sum(1 for s in SEEDS if s["event_type"] == "order_intent")
    assert summary.valid == intents and summary.invalid == len(LINES) - intents
    assert all(b.result.message_type == "order_intent" for b in bad)
    with pytest.raises(ValueError, match="unknown message type"):
        validate_stream(io.BytesIO(b"{}"), "quote")


class _SizedReadsOnly(io.RawIOBase):
    """A stream that refuses unsized reads and records the largest read."""

    def __init__(self, lines: int) -> None:
        self.remaining = lines
        self.line = (LINES[0] + "\n").encode()
        self.largest = 0
        self.pending = b""

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        assert size is not None and size > 0, "NDJSON must be read in bounded chunks"
        self.largest = max(self.largest, size)
        while len(self.pending) < size and self.remaining:
            batch = min(self.remaining, 1000)
            self.pending += self.line * batch
            self.remaining -= batch
        out, self.pending = self.pending[:size], self.pending[size:]
        return out


def test_ndjson_is_streamed_in_bounded_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stream_mod, "CHUNK_BYTES", 4096)
    source = _SizedReadsOnly(lines=20_000)  # ~3.5 MB through 4 KiB reads
    summary = validate_stream(source)  # type: ignore[arg-type]
    assert summary.valid == 20_000 and summary.ok
    assert source.largest == 4096


@pytest.mark.parametrize(
    "body",
    [
        b"\n".join(line.encode() for line in LINES),
        b"[" + b",".join(line.encode() for line in LINES) + b"]",
    ],
)
def test_a_leading_utf8_byte_order_mark_is_ignored(body: bytes) -> None:
    summary, bad = run(b"\xef\xbb\xbf" + body)
    assert summary.ok and summary.valid == len(LINES), [b.result.errors for b in bad]


@pytest.mark.parametrize("chunk", [1, 7, 64, 4096])
def test_arrays_and_documents_stream_across_chunk_boundaries(
    chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stream_mod, "CHUNK_BYTES", chunk)
    messages = [*SEEDS, {**SEEDS[0], "symbol": "bad symbol!"}, *SEEDS]
    for text, fmt in (
        (json.dumps(messages, indent=2), "array"),
        ("\n".join(json.dumps(m, indent=2) for m in messages), "document"),
    ):
        summary, bad = run(text.encode())
        assert summary.input_format == fmt
        assert (summary.valid, summary.invalid) == (2 * len(SEEDS), 1), [
            b.result.errors for b in bad
        ]
        assert bad[0].result.errors[0].path == "symbol"
    # A top-level number split across chunks is read whole, not as two numbers.
    summary, bad = run(b"[12345678901234567890, 1]")
    assert summary.invalid == 2 and summary.valid == 0


def test_array_is_streamed_in_bounded_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stream_mod, "CHUNK_BYTES", 4096)

    class ArrayStream(_SizedReadsOnly):
        def __init__(self, n: int) -> None:
            super().__init__(0)
            self.pending = b"[" + b",".join([LINES[0].encode()] * n) + b"]"

    source = ArrayStream(5000)
    summary = validate_stream(source)  # type: ignore[arg-type]
    assert summary.input_format == "array" and summary.valid == 5000 and summary.ok
    assert source.largest == 4096


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (b"[" + LINES[0].encode() + b", " + LINES[1].encode(), "not closed"),
        (b"[" + LINES[0].encode() + b" " + LINES[1].encode() + b"]", "expected ',' or ']'"),
        (b"[" + LINES[0].encode() + b"] trailing", "unexpected data after"),
        (b"[" + LINES[0].encode() + b', "\xff"]', "not UTF-8"),
        (b"[" + LINES[0].encode() + b",]", "malformed JSON"),
    ],
)
def test_broken_arrays_keep_the_valid_prefix_and_say_why(data: bytes, needle: str) -> None:
    summary, bad = run(data)
    assert summary.valid >= 1 and summary.invalid == 1
    assert needle in bad[0].result.errors[0].message


_pieces = st.sampled_from(
    [
        *(line.encode() for line in LINES[:3]),
        b"[",
        b"]",
        b",",
        b"{",
        b"}",
        b"\n",
        b"  ",
        b'"',
        b"\xff",
        b"\xef\xbb\xbf",
        b"NaN",
        b"1e400",
        b"null",
        b'{"event_type": "bar_event"}',
    ]
)


@pytest.mark.property
@given(st.lists(_pieces | st.binary(max_size=8), max_size=12), st.sampled_from([1, 3, 64, 4096]))
def test_validate_stream_never_raises_on_any_bytes(pieces: list[bytes], chunk: int) -> None:
    data = b"".join(pieces)
    saved = stream_mod.CHUNK_BYTES
    stream_mod.CHUNK_BYTES = chunk
    try:
        summary, bad = run(data)
    finally:
        stream_mod.CHUNK_BYTES = saved
    assert summary.total >= 1
    assert summary.invalid == len(bad)
    assert summary.valid + summary.invalid == summary.total
    assert sum(v + i for v, i in summary.by_type.values()) == summary.total
