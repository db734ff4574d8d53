"""Gate 1 — artifact validation: coverage ≥ threshold, governance signed, fixtures valid."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from artifacts.io import sha256_file
from artifacts.models.base import Evidence, Scalar, tool_version
from artifacts.models.gate_reports import (
    ArtifactValidationReport,
    CoverageCheck,
    FixtureCheck,
    SignoffStatus,
)
from gates.base import GateContext, GateInput, GateResult, check, header, verdict
from gates.coverage import CoverageProblem, read_coverage, run_suite_with_coverage
from gates.governance import SIGNOFFS_FILE, check_signoffs
from gates.output import write_report

if TYPE_CHECKING:
    from engine.config import AppConfig

CONFIG_SCHEMA = Path("engine/schemas/config.schema.json")


@dataclass(frozen=True)
class ArtifactValidationGate:
    number: int = 1
    name: str = "Artifact validation"
    summary: str = "test coverage ≥ coverage_min AND governance signed AND fixtures valid"
    inputs: tuple[GateInput, ...] = (
        GateInput("coverage report", "coverage.py JSON or Cobertura XML (--coverage-report)"),
        GateInput(SIGNOFFS_FILE, "governance sign-offs (algotrade governance sign)"),
        GateInput("data/assets.csv", "the asset universe"),
        GateInput("fixtures/seeds.yaml", "named random seeds"),
        GateInput("config", "the effective configuration"),
    )
    outputs: tuple[str, ...] = (ArtifactValidationReport.FILE_NAME,)

    def thresholds(self, config: AppConfig) -> dict[str, Scalar]:
        return {
            "coverage_min": config.gates.coverage_min,
            "required_roles": ",".join(config.gates.required_roles),
        }

    def run(self, ctx: GateContext) -> GateResult:
        started = ctx.clock()
        inputs: list[Path] = []
        evidence: list[Evidence] = []

        coverage, cov_evidence = self._coverage(ctx)
        evidence.append(cov_evidence)
        if coverage.source_sha256:
            inputs.append(Path(coverage.source))

        states = check_signoffs(ctx.out_dir, ctx.config, config_source=ctx.config_source)
        signoffs = tuple(SignoffStatus(**s.fields()) for s in states)
        if (ctx.out_dir / SIGNOFFS_FILE).is_file():
            inputs.append(ctx.out_dir / SIGNOFFS_FILE)
        for s in states:
            evidence.append(
                check(f"governance signed by {s.role}", s.signoff.name if s.signoff else None,
                      "valid sign-off", s.valid, s.reason or "")
            )  # fmt: skip

        fixtures = _fixtures(ctx)
        for f in fixtures:
            evidence.append(
                check(f"{f.path} valid against {f.schema_name}", "valid" if f.valid else "invalid",
                      "valid", f.valid, "; ".join(f.errors))
            )  # fmt: skip
            if f.sha256 and Path(f.path).is_file():
                inputs.append(Path(f.path))

        report = ArtifactValidationReport(
            generated_at=ctx.clock(),
            tool_version=tool_version(),
            gate=header(self, ctx, evidence),
            coverage=coverage,
            signoffs=signoffs,
            fixtures=tuple(fixtures),
        )
        ref = write_report(ctx, report)
        return verdict(self, ctx, started, evidence, [ref], inputs=inputs)

    def _coverage(self, ctx: GateContext) -> tuple[CoverageCheck, Evidence]:
        threshold = ctx.config.gates.coverage_min
        path = ctx.options.coverage_report
        if ctx.options.run_coverage:
            path = (ctx.out_dir / "coverage.json").resolve()  # the suite runs from the repo root
            run = run_suite_with_coverage(ctx.repo_root, path, python=ctx.options.python)
            if not path.is_file():
                return _no_coverage(
                    threshold, str(path),
                    f"the test run wrote no coverage report (pytest exit {run.exit_code}); "
                    f"run `{' '.join(run.command)}` to see why",
                )  # fmt: skip
        if path is None:
            return _no_coverage(
                threshold, "none",
                "no coverage report given: run `pytest --cov --cov-report=json:coverage.json` "
                "and pass --coverage-report coverage.json (or use --run-coverage)",
            )  # fmt: skip
        reading = read_coverage(Path(path))
        if isinstance(reading, CoverageProblem):
            return _no_coverage(threshold, str(path), reading.message)
        cov = CoverageCheck(
            measured=round(reading.fraction, 6),
            threshold=threshold,
            source=str(reading.source),
            source_sha256=sha256_file(reading.source),
            kind=reading.kind,
        )
        passed = reading.fraction >= threshold
        return cov, check(
            f"test coverage ≥ {threshold:.0%}", round(reading.fraction, 6), threshold, passed,
            "" if passed else f"coverage is {reading.fraction:.2%} ({reading.kind}, from "
            f"{reading.source}); add tests until it reaches {threshold:.0%}",
        )  # fmt: skip


def _no_coverage(threshold: float, source: str, why: str) -> tuple[CoverageCheck, Evidence]:
    cov = CoverageCheck(measured=0.0, threshold=threshold, source=source, kind="combined")
    return cov, check(f"test coverage ≥ {threshold:.0%}", None, threshold, False, why)


def _fixtures(ctx: GateContext) -> list[FixtureCheck]:
    from engine.data.assets import ASSETS_SCHEMA_PATH, DEFAULT_ASSETS_PATH, load_assets
    from engine.data.seeds import DEFAULT_SEEDS_PATH, SEEDS_SCHEMA_PATH, load_seeds

    paths = ctx.config.paths
    assets = Path(paths.assets) if paths.assets else DEFAULT_ASSETS_PATH
    seeds = Path(paths.seeds) if paths.seeds else DEFAULT_SEEDS_PATH
    out = [
        _one(assets, ASSETS_SCHEMA_PATH.name, lambda: load_assets(assets)),
        _one(seeds, SEEDS_SCHEMA_PATH.name, lambda: load_seeds(seeds)),
    ]
    schema_path = ctx.repo_path(CONFIG_SCHEMA)
    out.append(_config_check(ctx, schema_path))
    return out


def _one(path: Path, schema: str, load: object) -> FixtureCheck:
    errors: tuple[str, ...] = ()
    try:
        load()  # type: ignore[operator]
    except Exception as exc:  # each loader raises its own error type with a precise message
        errors = (str(exc),)
    return FixtureCheck(
        path=str(path),
        schema_name=schema,
        valid=not errors,
        sha256=sha256_file(path) if path.is_file() else None,
        errors=errors,
    )


def _config_check(ctx: GateContext, schema_path: Path) -> FixtureCheck:
    import jsonschema

    label = ctx.config_source
    try:
        schema = json.loads(schema_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return FixtureCheck(
            path=label, schema_name=str(CONFIG_SCHEMA), valid=False,
            errors=(f"config schema {schema_path} unreadable: {exc}",),
        )  # fmt: skip
    validator = jsonschema.Draft202012Validator(schema)
    errors = tuple(
        f"{'.'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
        for e in validator.iter_errors(ctx.config.masked_dict())
    )
    source = Path(label)
    return FixtureCheck(
        path=label,
        schema_name=CONFIG_SCHEMA.name,
        valid=not errors,
        sha256=sha256_file(source) if source.is_file() else ctx.config.fingerprint(),
        errors=errors,
    )
