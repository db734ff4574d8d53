"""Properties: messages round-trip through JSON, and validators never raise on any input."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts.messages import MESSAGE_MODELS
from contracts.validation import (
    ValidationResult,
    validate_bar_event,
    validate_execution_report,
    validate_message,
    validate_ofi_event,
    validate_order_intent,
    validate_tick_event,
)
from tests.test_contracts.corpus import python_validator
from tests.test_contracts.strategies import any_message

pytestmark = pytest.mark.property

VALIDATORS = [
    validate_message,
    validate_bar_event,
    validate_tick_event,
    validate_ofi_event,
    validate_order_intent,
    validate_execution_report,
]


@given(any_message())
def test_model_to_json_to_model_round_trips(data: dict[str, Any]) -> None:
    model = MESSAGE_MODELS[data["event_type"]].model_validate(data)
    text = model.model_dump_json()
    result = validate_message(text)
    assert result.is_valid, result.error_summary()
    assert result.validated_data == model
    assert result.validated_data.model_dump_json() == text
    # The Python-dict path reaches the same model as the JSON path.
    assert validate_message(json.loads(text)).validated_data == model


@given(any_message())
def test_generated_messages_also_satisfy_the_json_schema(data: dict[str, Any]) -> None:
    model = MESSAGE_MODELS[data["event_type"]].model_validate(data)
    as_json = json.loads(model.model_dump_json())
    assert python_validator("message").is_valid(as_json)


def _assert_is_result(result: object) -> None:
    assert isinstance(result, ValidationResult)
    assert result.is_valid == (result.validated_data is not None)
    assert result.is_valid or result.errors


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from(["bar_event", "order_intent", "execution_report", "REJECTED", "LIMIT"]),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                ["event_type", "symbol", "timestamp", "quantity", "status", "open", "x", ""]
            )
            | st.text(max_size=8),
            children,
            max_size=6,
        )
    ),
    max_leaves=30,
)


@given(json_values)
def test_validators_never_raise_on_arbitrary_python_values(value: Any) -> None:
    for validate in VALIDATORS:
        _assert_is_result(validate(value))


@given(st.binary(max_size=300))
def test_validators_never_raise_on_arbitrary_bytes(raw: bytes) -> None:
    for validate in VALIDATORS:
        result = validate(raw)
        _assert_is_result(result)


@given(st.text(max_size=300))
def test_validators_never_raise_on_arbitrary_text(text: str) -> None:
    for validate in VALIDATORS:
        _assert_is_result(validate(text))


@given(
    any_message(),
    st.sampled_from(
        [
            "1e400",
            "-1e400",
            "NaN",
            "Infinity",
            "-Infinity",
            "1" * 400,
            "true",
            "null",
            '"x"',
            "[]",
            "{}",
        ]
    ),
)
def test_replacing_any_number_with_a_hostile_literal_never_raises(
    data: dict[str, Any], literal: str
) -> None:
    model = MESSAGE_MODELS[data["event_type"]].model_validate(data)
    payload = json.loads(model.model_dump_json())
    for key, value in payload.items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            text = json.dumps({**payload, key: "__HOLE__"}).replace('"__HOLE__"', literal)
            result = validate_message(text)
            _assert_is_result(result)
            if literal in ("1e400", "-1e400", "NaN", "Infinity", "-Infinity", "1" * 400):
                assert not result.is_valid, (key, literal)


@pytest.mark.parametrize("depth", [10, 1000, 100_000])
def test_deep_nesting_is_invalid_not_a_crash(depth: int) -> None:
    for text in ("[" * depth + "]" * depth, '{"a":' * depth + "1" + "}" * depth):
        for validate in VALIDATORS:
            result = validate(text)
            assert not result.is_valid
    nested: Any = 1
    for _ in range(min(depth, 5000)):
        nested = {"event_type": nested}
    for validate in VALIDATORS:
        assert not validate(nested).is_valid


def test_non_json_python_objects_are_invalid_not_a_crash() -> None:
    for value in (
        object(),
        3.5,
        float("nan"),
        [1, 2],
        b"",
        "",
        None,
        {1: 2},
        {"event_type": object()},
    ):
        for validate in VALIDATORS:
            _assert_is_result(validate(value))
            assert not validate(value).is_valid
