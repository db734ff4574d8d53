"""Validate a stream of messages: NDJSON (streamed), a JSON array, or a JSON document.

This is the core behind ``algotrade validate-message``: bytes in, a :class:`StreamSummary` out,
and one :class:`InvalidMessage` handed to ``on_invalid`` per invalid message (so nothing grows
with the input). The caller owns the I/O (opening files, printing, writing dead letters).

Format detection, on the first non-whitespace byte and the first line:

- ``[`` -> a JSON array, streamed element by element; each element is validated on its own and
  reported with the line it starts on.
- the first line is a complete JSON value (or is not JSON at all) -> NDJSON, streamed in large
  binary chunks; each line is parsed and validated in one pass by pydantic-core. Blank lines are
  skipped.
- the first line starts an object that continues on later lines -> a (pretty-printed) JSON
  document: one or more concatenated values, streamed value by value. If the first value does not
  parse, the input is treated as NDJSON after all.

Only one value (at most :data:`MAX_VALUE_BYTES`) or one line is held in memory at a time.
- nothing but whitespace -> one invalid message ("empty input").
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any, Literal

from pydantic import TypeAdapter, ValidationError

from contracts.messages import EVENT_TYPES, MESSAGE_ADAPTER, MESSAGE_MODELS
from contracts.validation import (
    ValidationIssue,
    ValidationResult,
    result_from_error,
    validate_message,
)

CHUNK_BYTES = 1 << 22
"""NDJSON is read in chunks of this many bytes (4 MiB)."""

UNKNOWN_TYPE = "unknown"
"""Summary key for messages whose type could not be determined."""

InputFormat = Literal["ndjson", "array", "document", "empty"]


@dataclass(frozen=True, slots=True)
class InvalidMessage:
    """One invalid message: the 1-based ``line`` where it starts, its raw bytes (for
    dead-lettering) and the validation result."""

    line: int
    raw: bytes
    result: ValidationResult


@dataclass
class StreamSummary:
    """Counts for a whole input. ``by_type`` maps event_type (or ``"unknown"``) to
    ``[valid, invalid]``."""

    input_format: InputFormat = "ndjson"
    total: int = 0
    valid: int = 0
    invalid: int = 0
    blank_lines: int = 0
    by_type: dict[str, list[int]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when at least one message was read and every message is valid."""
        return self.invalid == 0 and self.total > 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": self.input_format,
            "total": self.total,
            "valid": self.valid,
            "invalid": self.invalid,
            "blank_lines": self.blank_lines,
            "by_type": {k: {"valid": v[0], "invalid": v[1]} for k, v in self.by_type.items()},
            "ok": self.ok,
        }


OnInvalid = Callable[[InvalidMessage], None]


_TYPE_ADAPTERS: dict[str, TypeAdapter[Any]] = {
    name: TypeAdapter(model) for name, model in MESSAGE_MODELS.items()
}


def _adapter_for(message_type: str | None) -> TypeAdapter[Any]:
    if message_type is None:
        return MESSAGE_ADAPTER
    return _TYPE_ADAPTERS[message_type]


def _peek_start(stream: IO[bytes]) -> tuple[bytes, bool]:
    """Read until the first line is complete and the next one has begun (or EOF); return
    (bytes read, at_eof)."""
    head = b""
    while True:
        chunk = stream.read(CHUNK_BYTES)
        if not chunk:
            return head, True
        head += chunk
        stripped = head.lstrip()
        if stripped[:1] == b"[":
            return head, False
        _, newline, rest = stripped.partition(b"\n")
        if newline and rest.strip():  # the first line and the start of the next one
            return head, False


def _first_line_is_incomplete_object(head: bytes) -> bool:
    """True when the first non-blank line opens a JSON object that continues on later lines."""
    text = head.lstrip()
    first, _, rest = text.partition(b"\n")
    if not first.lstrip().startswith(b"{") or not rest.strip():
        return False
    try:
        json.loads(first)
    except json.JSONDecodeError as exc:
        # An error at the very end of the line means "more input needed", i.e. multi-line JSON.
        return exc.pos >= len(first.decode("utf-8", errors="replace").rstrip())
    except (UnicodeDecodeError, RecursionError):
        return False
    return False


def validate_stream(
    stream: IO[bytes],
    message_type: str | None = None,
    on_invalid: OnInvalid | None = None,
) -> StreamSummary:
    """Validate every message in ``stream`` (binary, read sequentially).

    Parameters
    ----------
    stream
        Binary file object; NDJSON is consumed in :data:`CHUNK_BYTES` chunks and never held whole.
    message_type
        An ``event_type`` to validate every message against; ``None`` detects each message's type
        from its ``event_type``. Must be one of the five types (the CLI checks this).
    on_invalid
        Called once per invalid message, in input order.
    """
    if message_type is not None and message_type not in MESSAGE_MODELS:
        raise ValueError(
            f"unknown message type {message_type!r}; expected one of {', '.join(EVENT_TYPES)}"
        )
    report = on_invalid if on_invalid is not None else _ignore
    summary = StreamSummary()
    head, at_eof = _peek_start(stream)
    head = head.removeprefix(b"\xef\xbb\xbf")  # a UTF-8 byte-order mark is not part of the JSON
    stripped = head.lstrip()
    if not stripped:
        summary.input_format = "empty"
        _record_invalid(
            summary,
            report,
            InvalidMessage(
                1,
                head,
                ValidationResult(
                    False,
                    None,
                    (ValidationIssue("", "empty input: expected JSON message(s), found none"),),
                    message_type,
                ),
            ),
        )
        return summary
    if stripped[:1] == b"[":
        summary.input_format = "array"
        _validate_array(
            _ValueReader(head, None if at_eof else stream), message_type, summary, report
        )
        return summary
    if _first_line_is_incomplete_object(head):
        reader = _ValueReader(head, None if at_eof else stream)
        if _validate_document(reader, message_type, summary, report):
            summary.input_format = "document"
            return summary
        summary = StreamSummary()
        consumed = b"".join(reader.raw_chunks or [head])
        rest = _chain_chunks(consumed, stream) if not reader.eof else iter((consumed,))
        _validate_ndjson(rest, message_type, summary, report)
        return summary
    chunks = _chain_chunks(head, stream) if not at_eof else iter((head,))
    _validate_ndjson(chunks, message_type, summary, report)
    return summary


def _ignore(_: InvalidMessage) -> None:
    return None


def _chain_chunks(head: bytes, stream: IO[bytes]) -> Any:
    yield head
    read = stream.read
    while chunk := read(CHUNK_BYTES):
        yield chunk


def _record_invalid(summary: StreamSummary, report: OnInvalid, item: InvalidMessage) -> None:
    summary.total += 1
    summary.invalid += 1
    key = item.result.message_type or UNKNOWN_TYPE
    counts = summary.by_type.get(key)
    if counts is None:
        summary.by_type[key] = [0, 1]
    else:
        counts[1] += 1
    report(item)


def _validate_ndjson(
    chunks: Any, message_type: str | None, summary: StreamSummary, report: OnInvalid
) -> None:
    """The hot loop: one ``validate_json`` per line, Python work only on invalid lines."""
    # The core validator directly: TypeAdapter.validate_json adds ~1 us of Python per call.
    validate_json = _adapter_for(message_type).validator.validate_json
    valid_by_type: dict[str, int] = dict.fromkeys(EVENT_TYPES, 0)
    line_no = 0
    blank = 0
    rest = b""
    for chunk in chunks:
        lines = (rest + chunk).split(b"\n") if rest else chunk.split(b"\n")
        rest = lines.pop()
        for line in lines:
            line_no += 1
            try:
                valid_by_type[validate_json(line).event_type] += 1
            except ValidationError as exc:
                if not line.strip():
                    blank += 1
                    continue
                _report_line(summary, report, line, line_no, exc, message_type)
            except Exception as exc:  # never let one hostile line stop the stream
                _report_unexpected(summary, report, line, line_no, exc, message_type)
    if rest:
        line_no += 1
        result = validate_message(rest, message_type)
        if result.is_valid:
            valid_by_type[str(result.message_type)] += 1
        elif not rest.strip():
            blank += 1
        else:
            _record_invalid(summary, report, InvalidMessage(line_no, rest, result))
    summary.blank_lines += blank
    _merge_valid(summary, valid_by_type)
    if summary.total == 0:
        summary.input_format = "empty"
        _record_invalid(
            summary,
            report,
            InvalidMessage(
                1,
                b"",
                ValidationResult(
                    False,
                    None,
                    (ValidationIssue("", "empty input: expected JSON message(s), found none"),),
                    message_type,
                ),
            ),
        )


def _merge_valid(summary: StreamSummary, valid_by_type: dict[str, int]) -> None:
    for key, count in valid_by_type.items():
        if count:
            counts = summary.by_type.setdefault(key, [0, 0])
            counts[0] += count
            summary.valid += count
            summary.total += count
    # Keep a stable, readable order: the five types first, then "unknown".
    order = {k: i for i, k in enumerate((*EVENT_TYPES, UNKNOWN_TYPE))}
    summary.by_type = dict(sorted(summary.by_type.items(), key=lambda kv: order.get(kv[0], 99)))


def _report_line(
    summary: StreamSummary,
    report: OnInvalid,
    line: bytes,
    line_no: int,
    exc: ValidationError,
    message_type: str | None,
) -> None:
    result = result_from_error(exc, message_type)
    _record_invalid(summary, report, InvalidMessage(line_no, line, result))


def _report_unexpected(
    summary: StreamSummary,
    report: OnInvalid,
    line: bytes,
    line_no: int,
    exc: Exception,
    message_type: str | None,
) -> None:
    message = (
        "input is nested too deeply to validate"
        if isinstance(exc, RecursionError)
        else f"could not validate input: {type(exc).__name__}: {exc}"
    )
    result = ValidationResult(False, None, (ValidationIssue("", message),), message_type)
    _record_invalid(summary, report, InvalidMessage(line_no, line, result))


MAX_VALUE_BYTES = 64 << 20
"""A JSON array element or document value that has not parsed within this many bytes is reported
as malformed (or too large) instead of being read further."""

_WS = re.compile(r"[ \t\r\n]*")


class _ValueReader:
    """Reads consecutive JSON values from a byte stream incrementally, tracking line numbers.

    Holds at most about one value plus one chunk of text; used for JSON arrays and for
    (pretty-printed) JSON documents.
    """

    def __init__(self, head: bytes, stream: IO[bytes] | None) -> None:
        self._stream = stream
        self._utf8 = codecs.getincrementaldecoder("utf-8")()
        self._json = json.JSONDecoder()
        self.raw_chunks: list[bytes] | None = [head]  # kept until the first value completes
        self.error: str | None = None
        self.eof = stream is None
        self.buf = ""
        self.pos = 0
        self.line = 1
        self._append(head, final=self.eof)

    def _append(self, data: bytes, *, final: bool) -> bool:
        try:
            text = self._utf8.decode(data, final)
        except UnicodeDecodeError as exc:
            # Keep the text before the bad byte so the values before it are still validated.
            valid_prefix = exc.object[: exc.start].decode("utf-8", errors="ignore")
            self.buf += valid_prefix
            line = self.line + self.buf.count("\n", self.pos)
            self.error = f"input is not UTF-8 text ({exc.reason}) at line {line}"
            self.eof = True
            return False
        if self.pos > CHUNK_BYTES:  # drop what has been consumed
            self.buf, self.pos = self.buf[self.pos :], 0
        self.buf += text
        return True

    def more(self, at_least: int = 1) -> bool:
        """Read at least ``at_least`` more bytes (or to EOF); False when nothing more came."""
        if self.eof or self._stream is None:
            return False
        got = 0
        while got < at_least:
            chunk = self._stream.read(CHUNK_BYTES)
            if not chunk:
                self.eof = True
                before = len(self.buf)
                ok = self._append(b"", final=True)
                return ok and (got > 0 or len(self.buf) > before)
            if self.raw_chunks is not None:
                self.raw_chunks.append(chunk)
            if not self._append(chunk, final=False):
                return False
            got += len(chunk)
        return True

    def skip_ws(self) -> bool:
        """Skip whitespace, reading as needed; False when the input ends."""
        while True:
            end = _WS.match(self.buf, self.pos).end()  # type: ignore[union-attr]
            self.line += self.buf.count("\n", self.pos, end)
            self.pos = end
            if end < len(self.buf):
                return True
            if not self.more():
                return False

    def peek(self) -> str:
        return self.buf[self.pos : self.pos + 1]

    def value(self) -> tuple[str, int] | str:
        """The next value as ``(raw text, start line)``, or an error message."""
        start_line = self.line
        while True:
            try:
                _, end = self._json.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as exc:
                pending = len(self.buf) - self.pos
                if pending < MAX_VALUE_BYTES and self.more(at_least=max(pending, CHUNK_BYTES)):
                    continue
                if self.error is not None:
                    return self.error
                line = start_line + self.buf.count("\n", self.pos, exc.pos)
                column = exc.pos - self.buf.rfind("\n", 0, exc.pos)
                if pending >= MAX_VALUE_BYTES:
                    return (
                        f"no complete JSON value within {MAX_VALUE_BYTES >> 20} MiB from line "
                        f"{start_line} (malformed or too large); the rest was not read"
                    )
                return (
                    f"malformed JSON at line {line} column {column}: {exc.msg}; "
                    "the rest was not read"
                )
            except RecursionError:
                return f"JSON nested too deeply at line {start_line}; the rest was not read"
            if end == len(self.buf) and self.more():
                continue  # a trailing number may continue in the next chunk
            raw = self.buf[self.pos : end]
            self.line += raw.count("\n")
            self.pos = end
            self.raw_chunks = None
            return raw, start_line


def _stop(
    summary: StreamSummary,
    report: OnInvalid,
    reader: _ValueReader,
    message: str,
    message_type: str | None,
) -> None:
    """Report that the input cannot be read further, as one invalid message."""
    snippet = reader.buf[reader.pos : reader.pos + 200].encode()
    result = ValidationResult(False, None, (ValidationIssue("", message),), message_type)
    _record_invalid(summary, report, InvalidMessage(reader.line, snippet, result))


def _validate_element(
    raw: str, line: int, message_type: str | None, summary: StreamSummary, report: OnInvalid
) -> None:
    try:
        key = _adapter_for(message_type).validator.validate_json(raw).event_type
    except Exception:
        result = validate_message(raw, message_type)  # the detailed, never-raising path
        if not result.is_valid:
            _record_invalid(summary, report, InvalidMessage(line, raw.encode(), result))
            return
        key = str(result.message_type)
    summary.by_type.setdefault(key, [0, 0])[0] += 1
    summary.total += 1
    summary.valid += 1


def _validate_array(
    reader: _ValueReader, message_type: str | None, summary: StreamSummary, report: OnInvalid
) -> None:
    """``[ value, value, ... ]``, streamed element by element."""
    reader.skip_ws()
    reader.pos += 1  # the opening "["
    first = True
    while True:
        if not reader.skip_ws():
            _stop(
                summary,
                report,
                reader,
                reader.error or f"the JSON array is not closed: ']' missing at line {reader.line}",
                message_type,
            )
            return
        if reader.peek() == "]" and first:
            reader.pos += 1
            break
        if not first:
            sep = reader.peek()
            if sep == "]":
                reader.pos += 1
                break
            if sep != ",":
                _stop(
                    summary,
                    report,
                    reader,
                    f"malformed JSON array at line {reader.line}: expected ',' or ']' "
                    "between elements; the rest was not read",
                    message_type,
                )
                return
            reader.pos += 1
            reader.skip_ws()
        got = reader.value()
        if isinstance(got, str):
            _stop(summary, report, reader, got, message_type)
            return
        _validate_element(got[0], got[1], message_type, summary, report)
        first = False
    if reader.skip_ws():
        _stop(
            summary,
            report,
            reader,
            f"unexpected data after the JSON array at line {reader.line}",
            message_type,
        )
    elif reader.error is not None:
        _stop(summary, report, reader, reader.error, message_type)
    if summary.total == 0:
        result = ValidationResult(
            False, None, (ValidationIssue("", "empty JSON array: no messages"),), message_type
        )
        _record_invalid(summary, report, InvalidMessage(1, b"[]", result))


def _validate_document(
    reader: _ValueReader, message_type: str | None, summary: StreamSummary, report: OnInvalid
) -> bool:
    """Whitespace-separated (pretty-printed) values, streamed one by one.

    Returns False, having validated nothing, when the very first value does not parse: the
    caller then treats the input as NDJSON (``reader.raw_chunks`` holds the bytes read so far).
    """
    while reader.skip_ws():
        got = reader.value()
        if isinstance(got, str):
            if summary.total == 0:
                return False
            _stop(summary, report, reader, got, message_type)
            return True
        _validate_element(got[0], got[1], message_type, summary, report)
    if reader.error is not None:
        if summary.total == 0:
            return False
        _stop(summary, report, reader, reader.error, message_type)
    return summary.total > 0
