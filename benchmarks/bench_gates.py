"""Gate-run benchmark: ``python -m benchmarks.bench_gates [--quick]``.

Runs the full ``gate run 1-8`` on the embedded defaults in a scratch directory (a small coverage
file at 85 %, test sign-offs made there, the simulated broker) and reports the wall time of every
gate. Target (issue 8): the paper session (gate 7) and the drills (inside gate 8) dominate — all
the other work together takes under 10 % of the total.

``--quick`` runs gate 4 on one small broker test file instead of the whole broker suite, and a
short session: a smoke run of the same code whose proportions are not those of the real chain,
so the target is reported but not judged (exit 0). Gate 7 runs the planes' paper session when ``engine.planes.session`` provides it;
without it the gate fails with "no paper session artifacts" and the figures say so.
Prints a plain table and writes ``benchmarks/results/gates.json``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

RESULTS = Path(__file__).parent / "results" / "gates.json"
TARGET_SHARE = 0.10
QUICK_BROKER_TESTS = ("-m", "broker", "tests/test_engine/test_broker/test_commissions.py")


def _coverage_file(path: Path) -> Path:
    path.write_text('{"totals": {"percent_covered": 85.0, "num_branches": 1}}', encoding="utf-8")
    return path


def run(quick: bool) -> dict[str, object]:
    from engine.config import load_config
    from engine.data.assets import REPO_ROOT
    from gates.base import GateContext, GateOptions
    from gates.governance import sign
    from gates.runner import run_gates

    with tempfile.TemporaryDirectory(prefix="bench-gates-") as tmp:
        out = Path(tmp) / "prelive"
        # kill-switch latches and HALT flags of the run stay in the scratch directory
        config = load_config(None, {}).with_overrides({"paths.state": str(Path(tmp) / "state")})

        def now() -> datetime:
            return datetime.now(UTC)

        for role in config.gates.required_roles:
            sign(out, role=role, name=f"bench {role}", config=config, clock=now)
        options = GateOptions(
            coverage_report=_coverage_file(Path(tmp) / "coverage.json"),
            session_hours=0.5 if quick else None,
            session_speed=3000.0 if quick else None,
        )
        if quick:
            options = replace(options, broker_test_args=QUICK_BROKER_TESTS)
        ctx = GateContext(
            config=config, out_dir=out, repo_root=REPO_ROOT, clock=now, options=options
        )
        start = time.perf_counter()
        report = run_gates(range(1, 9), ctx, keep_going=True)
        total = time.perf_counter() - start
    gates = [
        {
            "gate": r.number,
            "name": r.name,
            "verdict": r.verdict,
            "seconds": round(r.seconds, 3),
            "failed": [
                f"{e.condition}: {e.measured} vs {e.threshold}" for e in r.failed_conditions
            ],
        }
        for r in report.results
    ]
    g8 = next(r for r in report.results if r.number == 8)
    drills = dict(g8.details.get("drill_wall_seconds", {}))
    session = next(r.seconds for r in report.results if r.number == 7)
    heavy = session + sum(drills.values())
    rest = total - heavy
    return {
        "quick": quick,
        "total_seconds": round(total, 3),
        "gates": gates,
        "paper_session_seconds": round(session, 3),
        "drill_seconds": {k: round(v, 3) for k, v in drills.items()},
        "rest_seconds": round(rest, 3),
        "rest_share": round(rest / total, 4),
        "target_share": TARGET_SHARE,
        "target_met": rest / total < TARGET_SHARE,
        "gate7_verdict": next(r.verdict for r in report.results if r.number == 7),
        "decision": g8.details.get("decision"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run")
    args = parser.parse_args(argv)
    result = run(args.quick)
    print(f"{'gate':<5}{'name':<26}{'verdict':<9}{'seconds':>9}")
    for g in result["gates"]:  # type: ignore[attr-defined]
        print(f"{g['gate']:<5}{g['name']:<26}{g['verdict']:<9}{g['seconds']:>9.2f}")
    print(
        f"total {result['total_seconds']:.2f} s; paper session {result['paper_session_seconds']:.2f} s; "
        f"drills {sum(result['drill_seconds'].values()):.2f} s; "  # type: ignore[attr-defined]
        f"everything else {result['rest_seconds']:.2f} s = {result['rest_share']:.1%} of the total "
        f"(target < {TARGET_SHARE:.0%}: {'met' if result['target_met'] else 'NOT met'}"
        f"{'; not judged in --quick' if args.quick else ''})"
    )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0 if result["target_met"] or args.quick else 1


if __name__ == "__main__":
    raise SystemExit(main())
