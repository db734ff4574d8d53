"""``algotrade schemas export|check``: regenerate the checked-in JSON Schemas; validate artifacts.

``export`` regenerates every family of generated schemas — message contracts (``contracts/schemas``),
artifacts (``artifacts/schemas``), the config (``engine/schemas/config.schema.json``) and the data
fixtures (``data/assets.schema.json``, ``fixtures/seeds.schema.json``); ``--check`` writes nothing
and exits 1 when any file is missing, differs or is stale. ``check DIR`` validates every artifact
found under DIR.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import typer

from algotrade_cli.context import get_state, guarded, print_json
from algotrade_cli.exit_codes import ExitCode

schemas_app = typer.Typer(no_args_is_help=True)


@dataclass(frozen=True)
class SchemaFamily:
    """One directory of generated schemas: the expected text of every file it must hold."""

    name: str
    generate: Callable[[], dict[Path, str]]
    # directories holding only generated schemas: other *.json files there are stale
    owned_dirs: tuple[Path, ...] = ()


@dataclass(frozen=True)
class SchemaFileStatus:
    family: str
    path: Path
    status: str  # "ok", "missing", "drifted", "stale", "written", "removed"


def _contracts() -> dict[Path, str]:
    from contracts.schema_export import SCHEMA_DIR, contract_schemas, render_schema

    return {SCHEMA_DIR / name: render_schema(s) for name, s in contract_schemas().items()}


def _artifacts() -> dict[Path, str]:
    from artifacts.schema_export import SCHEMA_DIR, artifact_schemas, schema_text

    return {SCHEMA_DIR / name: schema_text(s) for name, s in artifact_schemas().items()}


def config_schema_path() -> Path:
    import engine

    return Path(engine.__file__).resolve().parent / "schemas" / "config.schema.json"


def _config() -> dict[Path, str]:
    from artifacts.schema_export import schema_text
    from engine.config import config_json_schema

    return {config_schema_path(): schema_text(config_json_schema())}


def _data() -> dict[Path, str]:
    from engine.data.schema_files import data_schemas

    return dict(data_schemas())


def families() -> tuple[SchemaFamily, ...]:
    import artifacts.schema_export
    import contracts.schema_export

    return (
        SchemaFamily("contracts", _contracts, (contracts.schema_export.SCHEMA_DIR,)),
        SchemaFamily("artifacts", _artifacts, (artifacts.schema_export.SCHEMA_DIR,)),
        SchemaFamily("config", _config),
        SchemaFamily("data", _data),
    )


def sync_schemas(*, write: bool) -> list[SchemaFileStatus]:
    """Compare (and with ``write``, rewrite) every generated schema file; one status per file."""
    from artifacts.io import atomic_write_text

    statuses: list[SchemaFileStatus] = []
    for family in families():
        expected = family.generate()
        for path, text in expected.items():
            current = path.read_text(encoding="utf-8") if path.exists() else None
            if current == text:
                statuses.append(SchemaFileStatus(family.name, path, "ok"))
                continue
            if write:
                atomic_write_text(path, text)
                statuses.append(SchemaFileStatus(family.name, path, "written"))
            else:
                status = "missing" if current is None else "drifted"
                statuses.append(SchemaFileStatus(family.name, path, status))
        for directory in family.owned_dirs:
            for path in sorted(directory.glob("*.json")):
                if path not in expected:
                    if write:
                        path.unlink()
                    statuses.append(
                        SchemaFileStatus(family.name, path, "removed" if write else "stale")
                    )
    return statuses


@schemas_app.command("export")
@guarded
def export(
    ctx: typer.Context,
    check: bool = typer.Option(
        False, "--check", help="Write nothing; exit 1 if any checked-in schema is out of date."
    ),
) -> int:
    """Regenerate the checked-in JSON Schemas (contracts, artifacts, config, data) from the models."""
    state = get_state(ctx)
    statuses = sync_schemas(write=not check)
    drifted = [s for s in statuses if s.status in ("missing", "drifted", "stale")]
    if state.json_output:
        print_json(
            {
                "check": check,
                "ok": not drifted,
                "files": [
                    {"family": s.family, "path": str(s.path), "status": s.status} for s in statuses
                ],
            }
        )
    else:
        from algotrade_cli.render.schemas import render_export

        render_export(statuses, check=check, quiet=state.verbosity < 0)
    return int(ExitCode.FAILED if drifted else ExitCode.OK)


@schemas_app.command("check")
@guarded
def check(
    ctx: typer.Context,
    directory: Path = typer.Argument(
        ..., help="Directory to search (recursively) for artifacts, e.g. prelive/."
    ),
) -> int:
    """Validate every artifact found in DIR against its schema and model; exit 1 on any failure."""
    from artifacts.check import check_directory

    state = get_state(ctx)
    if not directory.is_dir():
        from algotrade_cli.context import eprint

        eprint(f"error: {directory} is not a directory (give the folder holding the artifacts)")
        return int(ExitCode.USAGE)
    result = check_directory(directory)
    if state.json_output:
        print_json(
            {
                "directory": str(directory),
                "passed": result.passed,
                "checked": len(result.results),
                "invalid": len(result.invalid),
                "artifacts": [
                    {
                        "path": str(r.path),
                        "artifact_type": r.artifact_type,
                        "valid": r.valid,
                        "sha256": r.sha256,
                        "bytes": r.bytes,
                        "issues": [
                            {"path": i.path, "message": i.message, "value": i.value}
                            for i in r.issues
                        ],
                    }
                    for r in result.results
                ],
                "ignored": [str(p) for p in result.ignored],
                "temp_files": [str(p) for p in result.temp_files],
            }
        )
    else:
        from algotrade_cli.render.schemas import render_check

        render_check(result, quiet=state.verbosity < 0)
    return int(ExitCode.OK if result.passed else ExitCode.FAILED)
