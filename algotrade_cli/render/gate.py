"""Rendering of ``gate run|list|status`` and ``go-live``: progress on stderr, tables on stdout."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.table import Table

from algotrade_cli.render import stderr_console, stdout_console

if TYPE_CHECKING:
    from artifacts.models.go_live_decision import GoLiveDecision
    from gates.base import Gate, GateResult
    from gates.runner import RunReport

MARK = {"PASS": "PASS", "FAIL": "FAIL", "ERROR": "ERROR", "SKIPPED": "skipped", "MISSING": "—"}
STYLE = {"PASS": "green", "FAIL": "red", "ERROR": "red", "SKIPPED": "yellow", "MISSING": "dim"}


class Progress:
    """Gate-by-gate progress on stderr; a failure lists each failed condition and what to do."""

    def __init__(self, *, quiet: bool = False) -> None:
        self.quiet = quiet
        self.console = stderr_console()

    def __call__(self, event: str, gate: Gate, result: GateResult | None) -> None:
        if event == "start":
            if not self.quiet:
                self.console.print(f"gate {gate.number} {gate.name} …")
            return
        if event == "skipped":
            if not self.quiet:
                self.console.print(
                    f"gate {gate.number} {gate.name}: skipped (an earlier gate failed)"
                )
            return
        assert result is not None
        style = STYLE[result.verdict]
        if result.passed:
            if not self.quiet:
                self.console.print(
                    f"gate {gate.number} {gate.name}: [{style}]PASS[/] ({result.seconds:.2f} s)"
                )
            return
        self.console.print(
            f"gate {gate.number} {gate.name}: [{style}]{result.verdict}[/] ({result.seconds:.2f} s)"
        )
        for e in result.failed_conditions:
            self.console.print(
                f"  ✗ {e.condition}: measured {e.measured}, threshold {e.threshold}",
                markup=False,
            )
            if e.detail:
                self.console.print(f"    → {e.detail}", markup=False)


def run_summary(report: RunReport, out: Path) -> None:
    table = Table(title=f"Gate run {report.run_id}")
    for column in ("gate", "name", "verdict", "seconds", "artifacts"):
        table.add_column(column)
    for r in report.results:
        table.add_row(
            str(r.number),
            r.name,
            f"[{STYLE[r.verdict]}]{MARK[r.verdict]}[/]",
            f"{r.seconds:.2f}",
            ", ".join(a.name for a in r.artifacts),
        )
    for n in report.skipped:
        table.add_row(str(n), "", "[yellow]skipped[/]", "", "")
    console = stdout_console()
    console.print(table)
    console.print(f"artifacts and PRELIVE_VERIFICATION_LOG.json in {out}")


def gate_list(rows: Sequence[dict[str, Any]]) -> None:
    table = Table(title="The eight pre-live gates", show_lines=True)
    for column in ("#", "gate", "passes when", "inputs", "outputs", "thresholds"):
        table.add_column(column, overflow="fold")
    for r in rows:
        inputs = "\n".join(
            f"{i['name']} ← gate {i['produced_by']}" if i["produced_by"] else f"{i['name']}"
            for i in r["inputs"]
        )
        thresholds = "\n".join(f"{k} = {v}" for k, v in r["thresholds"].items())
        table.add_row(
            str(r["number"]), r["name"], r["passes_when"], inputs, "\n".join(r["outputs"]),
            thresholds,
        )  # fmt: skip
    stdout_console().print(table)


def status(rows: Sequence[dict[str, Any]]) -> None:
    table = Table(title="Latest gate verdicts")
    for column in ("gate", "name", "verdict", "finished (UTC)", "files changed since", "message"):
        table.add_column(column, overflow="fold")
    for r in rows:
        verdict = r["verdict"]
        table.add_row(
            str(r["number"]),
            r["name"],
            f"[{STYLE.get(verdict, 'dim')}]{MARK.get(verdict, verdict)}[/]",
            (r["finished_at"] or "")[:19],
            ", ".join(r["changed_files"]),
            r["message"] or "",
        )
    stdout_console().print(table)


def decision(model: GoLiveDecision, path: Path) -> None:
    console = stdout_console()
    style = "green" if model.decision == "GO" else "red"
    console.print(f"Go-live decision: [bold {style}]{model.decision}[/]")
    for reason in model.reasons:
        console.print(f"  - {reason}", markup=False)
    gates = Table(title="Gates 1–7")
    for column in ("gate", "name", "verdict", "unchanged", "changed files"):
        gates.add_column(column, overflow="fold")
    for g in model.gates:
        gates.add_row(str(g.number), g.name, g.verdict, "yes" if g.unchanged else "NO",
                      ", ".join(g.changed_files))  # fmt: skip
    console.print(gates)
    drills = Table(title="Drills")
    for column in ("drill", "ran", "passed", "seconds", "observations"):
        drills.add_column(column, overflow="fold")
    for d in (model.rollback_drill, model.kill_switch_drill):
        drills.add_row(d.kind, str(d.ran), str(d.passed),
                       f"{d.seconds:.2f}" if d.seconds is not None else "",
                       "; ".join(d.observations))  # fmt: skip
    console.print(drills)
    signs = Table(title="Sign-offs")
    for column in ("role", "name", "valid", "reason"):
        signs.add_column(column, overflow="fold")
    for s in model.signoffs:
        signs.add_row(s.role, s.name or "—", "yes" if s.valid else "NO", s.reason or "")
    console.print(signs)
    if model.capital_stage is not None:
        c = model.capital_stage
        cap = f", max position {c.max_position:,.0f}" if c.max_position else ""
        console.print(
            f"Capital stage: {c.name} — {c.capital_fraction:.0%} of capital = {c.capital:,.0f}{cap}"
        )
    console.print(f"Written: {path}")
