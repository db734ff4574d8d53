"""Rendering of ``governance status``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.table import Table

from algotrade_cli.render import stdout_console

if TYPE_CHECKING:
    from gates.governance import SignoffState


def render_status(states: Sequence[SignoffState]) -> None:
    table = Table(title="Governance sign-offs")
    for column in ("role", "signed by", "signed at (UTC)", "counts", "why not"):
        table.add_column(column)
    for s in states:
        table.add_row(
            s.role,
            s.signoff.name if s.signoff else "—",
            s.signoff.signed_at.strftime("%Y-%m-%d %H:%M") if s.signoff else "—",
            "yes" if s.valid else "NO",
            s.reason or "",
        )
    stdout_console().print(table)
