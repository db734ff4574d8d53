"""Generate the JSON Schemas (draft 2020-12) of every artifact from its model.

The generated files are checked in under ``artifacts/schemas/`` (``<STEM>.schema.json``, e.g.
``ACCOUNT_CONFIG.schema.json``; the CSV artifact's schema describes one row). A test regenerates them
in memory and fails when a checked-in file drifts: run ``algotrade schemas export``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from artifacts.io import SCHEMA_DIR, atomic_write_text
from artifacts.models.base import ArtifactModel, ArtifactRow

__all__ = [
    "SCHEMA_BASE_URI",
    "SCHEMA_DIR",
    "artifact_schemas",
    "model_schema",
    "schema_text",
    "write_artifact_schemas",
]

SCHEMA_BASE_URI = "https://algotrade.dev/schemas/artifacts"
DRAFT = "https://json-schema.org/draft/2020-12/schema"


def model_schema(model_type: type[ArtifactModel] | type[ArtifactRow]) -> dict[str, Any]:
    """The JSON Schema of one artifact model with ``$schema``, ``$id`` and the file it describes."""
    schema = model_type.model_json_schema(mode="validation")
    if issubclass(model_type, ArtifactModel):
        version = model_type.current_schema_version()
        kind = model_type.FORMAT
    else:
        version = model_type.SCHEMA_VERSION
        kind = "csv"
    ordered: dict[str, Any] = {
        "$schema": DRAFT,
        "$id": f"{SCHEMA_BASE_URI}/v{version}/{model_type.schema_stem()}.schema.json",
        "x-artifact-file": model_type.FILE_NAME,
        "x-artifact-format": kind,
    }
    if kind == "markdown":
        ordered["x-validates"] = "the YAML front matter of the Markdown file"
    elif kind == "csv":
        ordered["x-validates"] = "one row of the CSV file (empty cell = null)"
    ordered.update(schema)
    if kind != "csv":
        # Files must state what they are and which version they follow, even though the Python
        # models fill these in by default.
        required = list(ordered.get("required", []))
        for header in ("schema_version", "artifact_type", "generated_at", "tool_version"):
            if header not in required:
                required.append(header)
        ordered["required"] = required
    return ordered


def artifact_schemas() -> dict[str, dict[str, Any]]:
    """Schema file name → schema, for every registered artifact, in registry order."""
    from artifacts.registry import ARTIFACTS

    return {
        f"{spec.model.schema_stem()}.schema.json": model_schema(spec.model) for spec in ARTIFACTS
    }


def schema_text(schema: dict[str, Any]) -> str:
    """The exact text a schema is checked in as (2-space indent, trailing newline)."""
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def write_artifact_schemas(directory: Path = SCHEMA_DIR) -> list[Path]:
    """Write every artifact schema to ``directory`` (atomically); return the paths written."""
    written = []
    for name, schema in artifact_schemas().items():
        written.append(atomic_write_text(directory / name, schema_text(schema)))
    return written
