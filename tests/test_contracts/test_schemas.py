"""The checked-in JSON Schemas are exactly what the models generate, and are valid 2020-12."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import jsonschema_rs
import pytest

from contracts.messages import EVENT_TYPES
from contracts.schema_export import (
    SCHEMA_DIR,
    contract_schemas,
    render_schema,
    schema_drift,
    write_contract_schemas,
)

pytestmark = pytest.mark.unit


def test_checked_in_schemas_have_not_drifted() -> None:
    drifted = schema_drift()
    assert drifted == [], (
        f"contracts/schemas is out of date for {drifted}; regenerate with "
        "`algotrade schemas export` (or contracts.schema_export.write_contract_schemas())"
    )


def test_no_stray_schema_files() -> None:
    on_disk = {p.name for p in SCHEMA_DIR.glob("*.json")}
    assert on_disk == set(contract_schemas())


def test_drift_is_detected(tmp_path: Path) -> None:
    write_contract_schemas(tmp_path)
    assert schema_drift(tmp_path) == []
    target = tmp_path / "order_intent.schema.json"
    schema = json.loads(target.read_text())
    schema["required"].remove("quantity")
    target.write_text(render_schema(schema))
    assert schema_drift(tmp_path) == ["order_intent.schema.json"]


@pytest.mark.parametrize("name", sorted(contract_schemas()))
def test_schema_is_valid_draft_2020_12(name: str) -> None:
    schema = contract_schemas()[name]
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema_rs.Draft202012Validator(schema)  # raises if the Rust validator rejects it


def test_every_contract_has_titles_and_descriptions() -> None:
    for event_type in EVENT_TYPES:
        schema = contract_schemas()[f"{event_type}.schema.json"]
        assert schema["additionalProperties"] is False
        assert schema["description"]
        for field, spec in schema["properties"].items():
            assert spec.get("title") and spec.get("description"), (event_type, field)


def test_conditional_rules_are_in_the_schema() -> None:
    intent = contract_schemas()["order_intent.schema.json"]
    report = contract_schemas()["execution_report.schema.json"]
    assert any(c["then"].get("required") == ["limit_price"] for c in intent["allOf"]), (
        "limit_price required for LIMIT/STOP_LIMIT must be an if/then in the schema"
    )
    assert any(
        c["if"]["properties"].get("status") == {"const": "REJECTED"} for c in report["allOf"]
    )
