"""Every golden example gets the same verdict from pydantic, jsonschema and jsonschema_rs."""

from __future__ import annotations

import json

import pytest

from contracts.messages import EVENT_TYPES, PYDANTIC_ONLY_RULES
from contracts.validation import validate_message
from tests.test_contracts.corpus import (
    CORPUS_DIR,
    MANIFEST,
    Case,
    load_cases,
    python_validator,
    schema_verdicts,
    strict_json,
)

CASES = load_cases()

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_pydantic_and_both_schema_validators_agree(case: Case) -> None:
    raw = case.path.read_bytes()
    expected_valid = case.polarity == "positive"

    result = validate_message(raw, case.message_type)
    assert result.is_valid is expected_valid, result.error_summary()

    py_verdict, rs_verdict = schema_verdicts(case.kind, raw)
    if case.pydantic_only:
        # The rule is genuinely beyond JSON Schema: both schema validators accept the message.
        assert (py_verdict, rs_verdict) == (True, True)
    else:
        assert py_verdict is expected_valid
        assert rs_verdict is expected_valid


@pytest.mark.parametrize(
    "case",
    [c for c in CASES if c.polarity == "negative"],
    ids=[c.id for c in CASES if c.polarity == "negative"],
)
def test_negative_case_reports_the_expected_field(case: Case) -> None:
    raw = case.path.read_bytes()
    result = validate_message(raw, case.message_type)
    paths = [issue.path for issue in result.errors]
    assert case.expected_path in paths, result.error_summary()
    if case.message_type is not None:
        # Auto-detection by event_type reaches the same verdict and field.
        auto = validate_message(raw)
        assert not auto.is_valid
        assert case.expected_path in [issue.path for issue in auto.errors]


# Files that are not JSON at all are rejected by both sides before any field is looked at.
SCHEMA_BLAMED = [
    c
    for c in CASES
    if c.polarity == "negative"
    and not c.pydantic_only
    and c.expected_path
    and strict_json(c.path.read_bytes())[0]
]


@pytest.mark.parametrize("case", SCHEMA_BLAMED, ids=[c.id for c in SCHEMA_BLAMED])
def test_jsonschema_blames_the_same_field(case: Case) -> None:
    ok, value = strict_json(case.path.read_bytes())
    assert ok
    field = case.expected_path
    errors = list(python_validator(case.kind).iter_errors(value))

    def mentions(err: object) -> bool:
        path = getattr(err, "absolute_path", ())
        if path and path[0] == field:
            return True
        return f"'{field}'" in str(getattr(err, "message", ""))

    def walk(errs: list[object]) -> list[object]:
        out: list[object] = []
        for e in errs:
            out.append(e)
            out.extend(walk(list(getattr(e, "context", []) or [])))
        return out

    assert any(mentions(e) for e in walk(list(errors))), [e.message for e in errors]


def test_every_negative_file_is_in_its_manifest_and_vice_versa() -> None:
    for kind_dir in sorted((CORPUS_DIR / "negative").iterdir()):
        manifest = json.loads((kind_dir / MANIFEST).read_text())
        files = {p.name for p in kind_dir.glob("*.json") if p.name != MANIFEST}
        assert files == set(manifest), kind_dir.name


def test_corpus_covers_the_seed_cases_for_every_type() -> None:
    # The seed asks for 18 cases: bar 3, tick 3, OFI 3, intent 5, report 4.
    wanted = {
        "bar_event": 3,
        "tick_event": 3,
        "ofi_event": 3,
        "order_intent": 5,
        "execution_report": 4,
    }
    for kind, minimum in wanted.items():
        seed = [c for c in CASES if c.kind == kind and c.path.stem.startswith("seed_")]
        assert len(seed) >= minimum, kind
        assert {c.polarity for c in seed} == {"positive", "negative"}, kind
    assert {c.kind for c in CASES} == {*EVENT_TYPES, "message"}


def test_pydantic_only_rules_are_exactly_the_listed_ones() -> None:
    """The rules JSON Schema cannot express: listed in the models, the schemas and the corpus."""
    assert PYDANTIC_ONLY_RULES == {
        "bar_event": ("high >= max(open, close) and min(open, close) >= low (OHLC consistency)",),
        "tick_event": (),
        "ofi_event": (),
        "order_intent": (),
        "execution_report": (
            "filled_quantity <= quantity when quantity is present",
            "FILLED with quantity present: filled_quantity == quantity",
            "last_fill_quantity <= filled_quantity when both are present",
        ),
    }
    for kind, rules in PYDANTIC_ONLY_RULES.items():
        description = python_validator(kind).schema["description"]
        for rule in rules:
            assert rule in description
        marked = [c for c in CASES if c.kind == kind and c.pydantic_only]
        assert bool(marked) == bool(rules), kind
