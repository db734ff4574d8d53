"""Validate a stream of messages: NDJSON (streamed), a JSON array, or a JSON document.

This is the core behind ``algotrade validate-message``: bytes in, a :class:`StreamSummary` out,
and one :class:`InvalidMessage` handed to ``on_invalid`` per invalid message (so nothing grows
with the input). The caller owns the I/O (opening files, printing, writing dead letters).

Format detection, on the first non-whitespace byte and the first line:

- ``[`` -> a JSON array; it is read whole, then each element is validated on its own with its
  line number.
- the first line is a complete JSON value (or is not JSON at all) -> NDJSON, streamed in large
  binary chunks; each line is parsed and validated in one pass by pydantic-core. Blank lines are
  skipped.
- the first line starts an object that continues on later lines -> a (pretty-printed) JSON
  document, read whole; one or more concatenated values are validated. If it does not parse as
  such, it is treated as NDJSON after all.
- nothing but whitespace -> one invalid message ("empty input").
"""

from __future__ import annotations

import json
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


def _adapter_for(message_type: str | None) -> TypeAdapter[Any]:
    if message_type is None:
        return MESSAGE_ADAPTER
    return TypeAdapter(MESSAGE_MODELS[message_type])


def _peek_start(stream: IO[bytes]) -> tuple[bytes, bool]:
    """Read until the first line is complete (or EOF); return (bytes read, at_eof)."""
    head = b""
    while True:
        chunk = stream.read(CHUNK_BYTES)
        if not chunk:
            return head, True
        head += chunk
        stripped = head.lstrip()
        if stripped and (stripped[:1] == b"[" or b"\n" in stripped):
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
        data = head if at_eof else head + stream.read()
        _validate_array(data, message_type, summary, report)
        return summary
    if _first_line_is_incomplete_object(head):
        data = head if at_eof else head + stream.read()
        if _validate_document(data, message_type, summary, report):
            summary.input_format = "document"
            return summary
        summary = StreamSummary()
        _validate_ndjson([data], message_type, summary, report)
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


class _Scanner:
    """Walks a decoded JSON text value by value, tracking line numbers."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.line = 1
        self._decoder = json.JSONDecoder()

    def skip_ws(self) -> None:
        text, pos = self.text, self.pos
        n = len(text)
        while pos < n and text[pos] in " \t\r\n":
            if text[pos] == "\n":
                self.line += 1
            pos += 1
        self.pos = pos

    def peek(self) -> str:
        return self.text[self.pos : self.pos + 1]

    def value(self) -> tuple[str, int] | None:
        """Return (raw text of the next value, its start line), or None if it does not parse."""
        start, start_line = self.pos, self.line
        try:
            _, end = self._decoder.raw_decode(self.text, start)
        except (json.JSONDecodeError, RecursionError):
            return None
        raw = self.text[start:end]
        self.line += raw.count("\n")
        self.pos = end
        return raw, start_line

    def error_at(self) -> tuple[int, int]:
        """(line, column) of a parse error at the current position."""
        try:
            self._decoder.raw_decode(self.text, self.pos)
        except json.JSONDecodeError as exc:
            return exc.lineno, exc.colno
        except RecursionError:
            pass
        return self.line, 1


def _decode(data: bytes) -> str | None:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None


def _not_json(data: bytes, message: str, message_type: str | None, line: int = 1) -> InvalidMessage:
    result = ValidationResult(False, None, (ValidationIssue("", message),), message_type)
    return InvalidMessage(line, data[:1_000_000], result)


def _validate_element(
    raw: str, line: int, message_type: str | None, summary: StreamSummary, report: OnInvalid
) -> None:
    result = validate_message(raw, message_type)
    if result.is_valid:
        key = str(result.message_type)
        summary.by_type.setdefault(key, [0, 0])[0] += 1
        summary.total += 1
        summary.valid += 1
    else:
        _record_invalid(summary, report, InvalidMessage(line, raw.encode(), result))


def _validate_array(
    data: bytes, message_type: str | None, summary: StreamSummary, report: OnInvalid
) -> None:
    text = _decode(data)
    if text is None:
        _record_invalid(summary, report, _not_json(data, "input is not UTF-8 text", message_type))
        return
    scan = _Scanner(text)
    scan.skip_ws()
    scan.pos += 1  # the opening "["
    scan.skip_ws()
    if scan.peek() == "]":
        scan.pos += 1
        _finish_document(scan, data, message_type, summary, report)
        return
    while True:
        scan.skip_ws()
        got = scan.value()
        if got is None:
            line, col = scan.error_at()
            _record_invalid(
                summary,
                report,
                _not_json(
                    text[scan.pos : scan.pos + 200].encode(),
                    f"malformed JSON array at line {line} column {col}; "
                    "the rest of the array was not read",
                    message_type,
                    line,
                ),
            )
            return
        raw, line = got
        _validate_element(raw, line, message_type, summary, report)
        scan.skip_ws()
        sep = scan.peek()
        scan.pos += 1
        if sep == "]":
            break
        if sep != ",":
            line, col = scan.line, 1
            _record_invalid(
                summary,
                report,
                _not_json(
                    text[scan.pos - 1 : scan.pos + 200].encode(),
                    f"malformed JSON array near line {line}: expected ',' or ']'",
                    message_type,
                    line,
                ),
            )
            return
    _finish_document(scan, data, message_type, summary, report)


def _finish_document(
    scan: _Scanner, data: bytes, message_type: str | None, summary: StreamSummary, report: OnInvalid
) -> None:
    scan.skip_ws()
    if scan.pos < len(scan.text):
        _record_invalid(
            summary,
            report,
            _not_json(
                scan.text[scan.pos : scan.pos + 200].encode(),
                f"unexpected data after the JSON array at line {scan.line}",
                message_type,
                scan.line,
            ),
        )
    if summary.total == 0:
        _record_invalid(
            summary,
            report,
            _not_json(data[:200], "empty JSON array: no messages", message_type),
        )


def _validate_document(
    data: bytes, message_type: str | None, summary: StreamSummary, report: OnInvalid
) -> bool:
    """Concatenated (pretty-printed) JSON values; False if the text does not parse that way."""
    text = _decode(data)
    if text is None:
        return False
    scan = _Scanner(text)
    values: list[tuple[str, int]] = []
    scan.skip_ws()
    while scan.pos < len(text):
        got = scan.value()
        if got is None:
            return False
        values.append(got)
        scan.skip_ws()
    for raw, line in values:
        _validate_element(raw, line, message_type, summary, report)
    return bool(values)
