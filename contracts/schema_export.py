"""JSON Schemas (draft 2020-12) generated from the message models and checked in.

``algotrade schemas export`` writes them under ``contracts/schemas/``; a test fails when the
checked-in files drift from what :func:`contract_schemas` generates.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from contracts.control import SessionControl
from contracts.dead_letter import DeadLetter
from contracts.messages import CONTRACTS_VERSION, MESSAGE_MODELS, PYDANTIC_ONLY_RULES

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"
"""Where the checked-in schema files live."""

DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"
_ID_BASE = "https://algotrade.invalid/schemas/contracts"


def _schema_for(model: type[BaseModel], file_name: str) -> dict[str, Any]:
    body = model.model_json_schema(mode="validation")
    return {
        "$schema": DRAFT_2020_12,
        "$id": f"{_ID_BASE}/{CONTRACTS_VERSION}/{file_name}",
        **body,
    }


def _union_schema(per_type: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Any message: picks the contract by ``event_type``; self-contained (contracts in $defs)."""
    defs: dict[str, Any] = {}
    for et, schema in per_type.items():
        body = {k: v for k, v in schema.items() if k not in ("$schema", "$id")}
        if "$defs" in body:  # nested definitions would need re-rooting; messages have none
            raise ValueError(f"contract {et} has nested $defs; inline them before embedding")
        defs[et] = body
    branches: list[dict[str, Any]] = [
        {
            "if": {"properties": {"event_type": {"const": et}}, "required": ["event_type"]},
            "then": {"$ref": f"#/$defs/{et}"},
        }
        for et in per_type
    ]
    return {
        "$schema": DRAFT_2020_12,
        "$id": f"{_ID_BASE}/{CONTRACTS_VERSION}/message.schema.json",
        "title": "Message",
        "description": (
            "Any bus message, selected by its event_type. Rules the per-type schemas cannot "
            "express are enforced by the pydantic models: "
            + "; ".join(f"{et}: {r}" for et, rules in PYDANTIC_ONLY_RULES.items() for r in rules)
            + "."
        ),
        "type": "object",
        "required": ["event_type"],
        "properties": {"event_type": {"enum": list(per_type)}},
        "allOf": branches,
        "$defs": defs,
    }


def contract_schemas() -> dict[str, dict[str, Any]]:
    """File name -> JSON Schema for every contract, the union and the dead-letter record."""
    files = {et: f"{et}.schema.json" for et in MESSAGE_MODELS}
    out: dict[str, dict[str, Any]] = {
        files[et]: _schema_for(model, files[et]) for et, model in MESSAGE_MODELS.items()
    }
    out["message.schema.json"] = _union_schema({et: out[files[et]] for et in MESSAGE_MODELS})
    out["dead_letter.schema.json"] = _schema_for(DeadLetter, "dead_letter.schema.json")
    out["session_control.schema.json"] = _schema_for(SessionControl, "session_control.schema.json")
    return out


def render_schema(schema: dict[str, Any]) -> str:
    """The exact text written to disk (stable key order, trailing newline)."""
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def write_contract_schemas(directory: Path | None = None) -> list[Path]:
    """Write every schema into ``directory`` (default :data:`SCHEMA_DIR`); return the paths."""
    target = SCHEMA_DIR if directory is None else Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name, schema in contract_schemas().items():
        path = target / name
        text = render_schema(schema)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            tmp = path.with_name(f".{name}.tmp")
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(path)
        written.append(path)
    return written


def schema_drift(directory: Path | None = None) -> list[str]:
    """Names of schema files that are missing or differ from the generated ones."""
    target = SCHEMA_DIR if directory is None else Path(directory)
    drifted = []
    for name, schema in contract_schemas().items():
        path = target / name
        if not path.exists() or path.read_text(encoding="utf-8") != render_schema(schema):
            drifted.append(name)
    return drifted
