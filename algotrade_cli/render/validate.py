"""Output of ``algotrade validate-message``: per-message error lines and the summary table."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from algotrade_cli.render import stderr_console

_MAX_VALUE_CHARS = 80


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _MAX_VALUE_CHARS else text[: _MAX_VALUE_CHARS - 1] + "…"


class ErrorPrinter:
    """Prints ``SOURCE:LINE: [type] path: message (got value)`` lines to stderr."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.console = stderr_console()

    def print_invalid(self, item: Any) -> None:
        result = item.result
        kind = result.message_type or "unknown type"
        for issue in result.errors:
            where = issue.path or "<message>"
            got = "" if issue.value is None else f" (got {_short(issue.value)})"
            self.console.print(
                f"{self.source}:{item.line}: [{kind}] {where}: {issue.message}{got}",
                markup=False,
                soft_wrap=True,
            )


def render_summary(
    summary: Any,
    *,
    source: str,
    hidden_errors: int,
    dlq: str | None,
    dlq_records: int,
    quiet: bool,
) -> None:
    """Valid/invalid counts per message type, on stderr."""
    console = stderr_console()
    if hidden_errors:
        console.print(
            f"… errors of {hidden_errors} more invalid message(s) not shown "
            "(raise --max-errors to see them; all are counted"
            + (" and dead-lettered)" if dlq else ")"),
            markup=False,
            soft_wrap=True,
        )
    if not quiet:
        console.print(f"{source} ({summary.input_format}):", markup=False, soft_wrap=True)
        table = Table()
        table.add_column("type")
        table.add_column("valid", justify="right")
        table.add_column("invalid", justify="right")
        for kind, (valid, invalid) in summary.by_type.items():
            table.add_row(kind, f"{valid:,}", f"{invalid:,}")
        table.add_row("total", f"{summary.valid:,}", f"{summary.invalid:,}", style="bold")
        console.print(table)
        if summary.blank_lines:
            console.print(f"{summary.blank_lines:,} blank line(s) skipped.", markup=False)
    if dlq is not None:
        console.print(f"{dlq_records:,} dead-letter record(s) appended to {dlq}", markup=False)
    verdict = (
        f"OK: all {summary.valid:,} message(s) valid"
        if summary.ok
        else f"INVALID: {summary.invalid:,} of {summary.total:,} message(s) invalid"
    )
    console.print(verdict, markup=False, soft_wrap=True)
