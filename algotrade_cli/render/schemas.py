"""Rendering of ``schemas export`` and ``schemas check``."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from rich.markup import escape
from rich.table import Table

from algotrade_cli.render import stderr_console, stdout_console

if TYPE_CHECKING:
    from algotrade_cli.schemas import SchemaFileStatus
    from artifacts.check import DirectoryCheck

_STYLE = {
    "ok": "green",
    "written": "cyan",
    "removed": "yellow",
    "missing": "red",
    "drifted": "red",
    "stale": "red",
}


def _rel(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _under(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def render_export(statuses: Sequence[SchemaFileStatus], *, check: bool, quiet: bool) -> None:
    console = stdout_console()
    shown = [s for s in statuses if s.status != "ok"]
    if not quiet and shown:
        table = Table(title="schemas " + ("out of date" if check else "updated"))
        table.add_column("family")
        table.add_column("file", overflow="fold")
        table.add_column("status", no_wrap=True)
        for s in shown:
            table.add_row(s.family, _rel(s.path), f"[{_STYLE[s.status]}]{s.status}[/]")
        console.print(table)
    counts = Counter(s.status for s in statuses)
    summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    families = len({s.family for s in statuses})
    console.print(f"{len(statuses)} schema files in {families} families: {summary}")
    if check and any(s.status in ("missing", "drifted", "stale") for s in statuses):
        stderr_console().print(
            "[red]schemas are out of date[/] — run `algotrade schemas export` and commit the result"
        )


def render_check(result: DirectoryCheck, *, quiet: bool) -> None:
    console = stdout_console()
    if not quiet and result.results:
        table = Table(title=f"artifacts in {result.root}")
        table.add_column("file", overflow="fold")
        table.add_column("type", overflow="fold")
        table.add_column("result", no_wrap=True)
        table.add_column("sha256", no_wrap=True)
        for r in result.results:
            verdict = "[green]valid[/]" if r.valid else f"[red]invalid ({len(r.issues)})[/]"
            table.add_row(
                escape(_under(r.path, result.root)), r.artifact_type, verdict, (r.sha256 or "")[:16]
            )
        console.print(table)
    err = stderr_console()
    for r in result.invalid:
        for issue in r.issues[:20]:
            err.print(f"[red]✗[/] {escape(str(issue))}", highlight=False, soft_wrap=True)
        if len(r.issues) > 20:
            err.print(f"  … and {len(r.issues) - 20} more issues in {r.path}")
    if not result.results:
        err.print(
            f"[red]no artifacts found in {escape(str(result.root))}[/] (looked for the registered file names, "
            "e.g. ACCOUNT_CONFIG.json, GO_LIVE_DECISION_GATE.md)"
        )
        return
    valid = len(result.results) - len(result.invalid)
    console.print(f"{valid} of {len(result.results)} artifacts valid")
    if result.temp_files and not quiet:
        err.print(
            f"note: {len(result.temp_files)} temp file(s) left by interrupted writes were skipped "
            "(.*.tmp; safe to delete)"
        )
