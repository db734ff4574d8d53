"""``algotrade validate-message``: validate bus messages from a file or stdin."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import IO, Any

import typer

from algotrade_cli.context import eprint, get_state, guarded, print_json
from algotrade_cli.exit_codes import ExitCode

_TYPES = "bar_event, tick_event, ofi_event, order_intent, execution_report"


class _InvalidCollector:
    """Receives each invalid message: prints up to ``max_errors``, dead-letters all of them."""

    def __init__(
        self, source: str, max_errors: int, dlq: IO[bytes] | None, keep_for_json: bool
    ) -> None:
        from algotrade_cli.render.validate import ErrorPrinter

        self.source = source
        self.max_errors = max_errors
        self.dlq = dlq
        self.dlq_records = 0
        self.shown: list[dict[str, Any]] = []
        self.keep_for_json = keep_for_json
        self.printer = ErrorPrinter(source)
        self.seen = 0

    def __call__(self, item: Any) -> None:
        self.seen += 1
        if self.seen <= self.max_errors:
            if self.keep_for_json:
                self.shown.append(
                    {
                        "line": item.line,
                        "message_type": item.result.message_type,
                        "errors": [e.as_dict() for e in item.result.errors],
                    }
                )
            self.printer.print_invalid(item)
        if self.dlq is not None:
            from datetime import UTC, datetime

            from contracts.dead_letter import dead_letter_for

            letter = dead_letter_for(
                item.raw,
                item.result,
                source=self.source,
                line=item.line,
                received_at=datetime.now(UTC),
            )
            self.dlq.write(letter.model_dump_json().encode() + b"\n")
            self.dlq_records += 1


@guarded
def validate_message(
    ctx: typer.Context,
    file: str = typer.Argument(
        "-", metavar="[FILE|-]", help="JSON object, JSON array or NDJSON file; '-' reads stdin."
    ),
    message_type: str | None = typer.Option(
        None,
        "--type",
        "-t",
        help=f"Validate every message as this type ({_TYPES}); default: detect by event_type.",
    ),
    dlq: Path | None = typer.Option(
        None,
        "--dlq",
        help="Append each invalid message with its errors to this NDJSON dead-letter file.",
        dir_okay=False,
    ),
    max_errors: int = typer.Option(
        50,
        "--max-errors",
        min=0,
        help="Print the errors of at most this many invalid messages (all are counted).",
    ),
    json_flag: bool = typer.Option(
        False, "--json", help="Machine-readable summary on stdout (same as the global --json)."
    ),
) -> int:
    """Validate messages (JSON object, array or NDJSON) against the five contracts.

    NDJSON, JSON arrays and pretty-printed documents are streamed. Errors go to
    stderr with the line number and field path. Exit 0 when every message is valid, 1 when any is
    invalid (or the input holds none), 2 on usage errors.
    """
    from contracts.messages import EVENT_TYPES
    from contracts.stream import validate_stream

    state = get_state(ctx)
    as_json = json_flag or state.json_output
    if message_type is not None and message_type not in EVENT_TYPES:
        eprint(f"error: --type {message_type!r} is not a message type; use one of {_TYPES}.")
        return int(ExitCode.USAGE)

    source = "<stdin>" if file == "-" else file
    if file == "-":
        stream: IO[bytes] = sys.stdin.buffer
        close_stream = False
    else:
        path = Path(file)
        if not path.exists():
            eprint(f"error: FILE {file!r} does not exist; give a path or '-' for stdin.")
            return int(ExitCode.USAGE)
        if path.is_dir():
            eprint(f"error: FILE {file!r} is a directory; give a file or '-' for stdin.")
            return int(ExitCode.USAGE)
        try:
            stream = path.open("rb", buffering=0)
        except OSError as exc:
            eprint(f"error: cannot read {file!r}: {exc.strerror or exc}.")
            return int(ExitCode.USAGE)
        close_stream = True

    dlq_file: IO[bytes] | None = None
    if dlq is not None:
        try:
            dlq.parent.mkdir(parents=True, exist_ok=True)
            dlq_file = dlq.open("ab")
        except OSError as exc:
            eprint(f"error: cannot open --dlq file {str(dlq)!r}: {exc.strerror or exc}.")
            if close_stream:
                stream.close()
            return int(ExitCode.USAGE)

    collector = _InvalidCollector(source, max_errors, dlq_file, keep_for_json=as_json)
    try:
        summary = validate_stream(stream, message_type, collector)
    finally:
        if close_stream:
            stream.close()
        if dlq_file is not None:
            dlq_file.close()

    from algotrade_cli.render.validate import render_summary

    hidden = max(0, summary.invalid - max_errors)
    render_summary(
        summary,
        source=source,
        hidden_errors=hidden,
        dlq=str(dlq) if dlq is not None else None,
        dlq_records=collector.dlq_records,
        quiet=state.verbosity < 0,
    )
    if as_json:
        payload = {
            "source": source,
            "message_type": message_type,
            **summary.as_dict(),
            "dlq": str(dlq) if dlq is not None else None,
            "dlq_records": collector.dlq_records,
            "errors_shown": len(collector.shown),
            "invalid_messages": collector.shown,
        }
        print_json(payload)
    return int(ExitCode.OK if summary.ok else ExitCode.FAILED)
