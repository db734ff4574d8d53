"""Checked-in schemas: no drift, valid draft 2020-12, and an independent validator agrees."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema_rs
import pytest
from jsonschema import Draft202012Validator

from artifacts.io import SCHEMA_DIR
from artifacts.markdown import parse_markdown
from artifacts.models.base import ArtifactModel
from artifacts.registry import ARTIFACTS, spec_for_file
from artifacts.schema_export import artifact_schemas, schema_text

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data" / "artifacts"
FIX = "run `algotrade schemas export` and commit the result"


@pytest.mark.parametrize("name", sorted(artifact_schemas()))
def test_checked_in_artifact_schema_has_not_drifted(name: str) -> None:
    path = SCHEMA_DIR / name
    assert path.exists(), f"{path} is missing: {FIX}"
    expected = schema_text(artifact_schemas()[name])
    assert path.read_text(encoding="utf-8") == expected, f"{path} is out of date: {FIX}"


def test_no_stale_artifact_schema_files() -> None:
    stale = sorted({p.name for p in SCHEMA_DIR.glob("*.json")} - set(artifact_schemas()))
    assert not stale, f"schemas without a model: {stale}: {FIX}"


def test_checked_in_config_schema_has_not_drifted() -> None:
    from engine.config import config_json_schema

    path = REPO / "engine" / "schemas" / "config.schema.json"
    assert path.exists(), f"{path} is missing: {FIX}"
    assert path.read_text(encoding="utf-8") == schema_text(config_json_schema()), (
        f"{path} is out of date: {FIX}"
    )


@pytest.mark.parametrize("name", sorted(artifact_schemas()))
def test_schema_is_valid_draft_2020_12_with_header_required(name: str) -> None:
    schema = artifact_schemas()[name]
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["additionalProperties"] is False
    if schema["x-artifact-format"] != "csv":
        for header in ("schema_version", "artifact_type", "generated_at", "tool_version"):
            assert header in schema["required"]


def test_every_artifact_type_and_stem_is_unique() -> None:
    types = [spec.artifact_type for spec in ARTIFACTS]
    stems = [spec.model.schema_stem() for spec in ARTIFACTS]
    assert len(set(types)) == len(types)
    assert len(set(stems)) == len(stems)


def _instances(kind: str) -> list[tuple[Path, object]]:
    out: list[tuple[Path, object]] = []
    for path in sorted((DATA / kind).glob("*/*")):
        spec = spec_for_file(path)
        if spec is None or not issubclass(spec.model, ArtifactModel):
            continue
        text = path.read_text(encoding="utf-8")
        try:
            data = parse_markdown(text)[0] if path.suffix == ".md" else json.loads(text)
        except Exception:
            continue  # unparseable negatives have nothing for a schema to judge
        out.append((path, data))
    return out


@pytest.mark.parametrize("path,data", _instances("positive"), ids=lambda v: getattr(v, "name", ""))
def test_independent_validator_accepts_positive_examples(path: Path, data: object) -> None:
    spec = spec_for_file(path)
    assert spec is not None
    schema = json.loads((SCHEMA_DIR / f"{spec.model.schema_stem()}.schema.json").read_text())
    assert jsonschema_rs.Draft202012Validator(schema).is_valid(data)


def test_both_validators_agree_on_every_negative_example() -> None:
    """jsonschema and jsonschema-rs give the same verdict on each negative file's content."""
    checked = 0
    for path, data in _instances("negative"):
        if "NaN" in path.read_text():
            # NaN is not JSON (RFC 8259); validators differ on it, the model refuses it
            continue
        spec = spec_for_file(path)
        assert spec is not None
        schema = json.loads((SCHEMA_DIR / f"{spec.model.schema_stem()}.schema.json").read_text())
        ours = Draft202012Validator(schema).is_valid(data)
        theirs = jsonschema_rs.Draft202012Validator(schema).is_valid(data)
        assert ours == theirs, path
        checked += 1
    assert checked >= 40
