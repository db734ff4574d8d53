"""Golden corpora of contract examples and three independent verdicts on each.

Layout: ``tests/data/contracts/{positive,negative}/<type>/<case>.json`` where ``<type>`` is an
``event_type`` or ``message`` (any type, detected by ``event_type``). Each negative directory has an
``_expected.json`` manifest: file name -> ``{"path": <field path that must be reported>,
"pydantic_only": <true when JSON Schema cannot express the violated rule>}``.
Files are raw bytes: some negative cases are deliberately not valid JSON.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import jsonschema_rs

from contracts.schema_export import SCHEMA_DIR

CORPUS_DIR = Path(__file__).resolve().parents[1] / "data" / "contracts"
MANIFEST = "_expected.json"


@dataclass(frozen=True)
class Case:
    polarity: str  # "positive" | "negative"
    kind: str  # event_type or "message"
    path: Path
    expected_path: str | None
    pydantic_only: bool

    @property
    def id(self) -> str:
        return f"{self.polarity}/{self.kind}/{self.path.stem}"

    @property
    def message_type(self) -> str | None:
        return None if self.kind == "message" else self.kind


def load_cases() -> list[Case]:
    cases: list[Case] = []
    for polarity in ("positive", "negative"):
        for kind_dir in sorted((CORPUS_DIR / polarity).iterdir()):
            manifest: dict[str, Any] = {}
            if polarity == "negative":
                manifest = json.loads((kind_dir / MANIFEST).read_text())
            for file in sorted(kind_dir.glob("*.json")):
                if file.name == MANIFEST:
                    continue
                entry = manifest.get(file.name, {})
                cases.append(
                    Case(
                        polarity,
                        kind_dir.name,
                        file,
                        entry.get("path"),
                        bool(entry.get("pydantic_only", False)),
                    )
                )
    return cases


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def strict_json(raw: bytes) -> tuple[bool, Any]:
    """Parse as RFC 8259 JSON (no NaN/Infinity, UTF-8 only); ``(ok, value)``."""
    try:
        return True, json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        return False, None


@cache
def schema_for(kind: str) -> dict[str, Any]:
    name = "message.schema.json" if kind == "message" else f"{kind}.schema.json"
    loaded: dict[str, Any] = json.loads((SCHEMA_DIR / name).read_text())
    return loaded


@cache
def python_validator(kind: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(
        schema_for(kind), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


@cache
def rust_validator(kind: str) -> Any:
    return jsonschema_rs.Draft202012Validator(schema_for(kind), validate_formats=True)


def schema_verdicts(kind: str, raw: bytes) -> tuple[bool, bool]:
    """(jsonschema verdict, jsonschema_rs verdict) for raw bytes; unparseable JSON is invalid."""
    ok, value = strict_json(raw)
    if not ok:
        return False, False
    return python_validator(kind).is_valid(value), bool(rust_validator(kind).is_valid(value))
