"""Validation entry points that never raise: outcomes are :class:`ValidationResult` values.

``data`` may be a ``dict`` (already parsed), or ``str``/``bytes`` holding raw JSON; raw JSON is
parsed and validated in one pass by pydantic-core. Any other input is reported as invalid.
"""

from __future__ import annotations

import reprlib
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from contracts.messages import EVENT_TYPES, MESSAGE_ADAPTER, MESSAGE_MODELS

_MAX_VALUE_REPR = 200
_SHORT_REPR = reprlib.Repr()
_SHORT_REPR.maxlevel = 3
_SHORT_REPR.maxstring = _MAX_VALUE_REPR
_SHORT_REPR.maxother = _MAX_VALUE_REPR


@dataclass(frozen=True, slots=True)
class ValidationIssue:
    """One problem: ``path`` is the field path (``"limit_price"``, ``"a.b[2]"``; ``""`` = the
    whole message), ``message`` says what is wrong and how to fix it, ``value`` is the offending
    input (truncated when long)."""

    path: str
    message: str
    value: Any = None

    def as_dict(self) -> dict[str, Any]:
        return {"path": self.path, "message": self.message, "value": _jsonable(self.value)}


@dataclass(frozen=True, slots=True)
class ValidationResult:
    """Outcome of validating one message.

    ``validated_data`` is the model instance when valid, else ``None``; ``message_type`` is the
    ``event_type`` that was validated against (or detected), ``None`` when unknown.
    """

    is_valid: bool
    validated_data: BaseModel | None
    errors: tuple[ValidationIssue, ...]
    message_type: str | None

    def error_summary(self) -> str:
        """All issues on one line: ``path: message; path: message``."""
        return "; ".join(f"{e.path or '<message>'}: {e.message}" for e in self.errors)


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, str)):
        if isinstance(value, str) and len(value) > _MAX_VALUE_REPR:
            return value[:_MAX_VALUE_REPR] + "…"
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**63:
            return str(value)
        return value
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else repr(value)
    try:
        return _SHORT_REPR.repr(value)
    except Exception:  # a hostile object's __repr__ must not break error reporting
        return f"<{type(value).__name__}>"


_PATTERN_HINTS = {
    "symbol": (
        "symbol must be 1-20 upper-case characters (A-Z, 0-9, '.', '-', ' ', '/') starting with "
        "a letter or digit, e.g. 'AAPL' or 'BRK.B'"
    ),
    "bar_size": "bar_size must look like '1min', '5 mins' or '1d'",
}


def _json_type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (list, tuple)):
        return "an array"
    return type(value).__name__


def format_loc(loc: tuple[int | str, ...]) -> str:
    """``("a", 0, "b")`` -> ``"a[0].b"``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def issues_from_error(
    exc: ValidationError, *, strip_tag: bool = False
) -> tuple[ValidationIssue, ...]:
    """Convert a pydantic ``ValidationError`` into issues with readable field paths.

    ``strip_tag`` drops the leading discriminator tag that union validation adds to each path.
    """
    issues: list[ValidationIssue] = []
    try:
        details = exc.errors(include_url=False)
    except Exception as inner:  # defensive: errors() must not turn into a crash
        return (ValidationIssue("", f"validation failed: {inner}", None),)
    for err in details:
        loc = tuple(err.get("loc", ()))
        kind = err.get("type", "")
        if strip_tag and loc and loc[0] in MESSAGE_MODELS:
            loc = loc[1:]
        ctx = err.get("ctx") or {}
        extra: list[ValidationIssue] = []
        message = str(err.get("msg", "invalid"))
        value = err.get("input")
        if kind == "cross_field" and "field" in ctx:
            prefix = f"{ctx['field']}: "
            message = message.removeprefix(prefix)
            value = ctx.get("value")
            extra = [
                ValidationIssue(format_loc((*loc, str(f))), m, _jsonable(v))
                for f, m, v in ctx.get("more", ())
            ]
            loc = (*loc, str(ctx["field"]))
        elif kind in ("union_tag_not_found", "union_tag_invalid"):
            loc = (*loc, "event_type")
            message = f"event_type must be one of {', '.join(EVENT_TYPES)}" + (
                "" if kind == "union_tag_not_found" else f" (got {ctx.get('tag')!r})"
            )
            value = ctx.get("tag")
        elif kind in ("model_type", "model_attributes_type", "dict_type") and not loc:
            message = f"a message must be a JSON object, got {_json_type_name(value)}"
        elif kind == "json_invalid":
            message = f"malformed JSON: {ctx.get('error', message)}"
            value = None
        elif kind == "string_pattern_mismatch" and loc and loc[-1] in _PATTERN_HINTS:
            message = _PATTERN_HINTS[str(loc[-1])]
        elif kind == "extra_forbidden":
            message = "unknown field; remove it (the contract forbids extra fields)"
        elif kind == "missing":
            message = "required field is missing"
            value = None
        issues.append(ValidationIssue(format_loc(loc), message, _jsonable(value)))
        issues.extend(extra)
    return tuple(issues)


def _invalid(
    message_type: str | None, path: str, message: str, value: Any = None
) -> ValidationResult:
    return ValidationResult(
        False, None, (ValidationIssue(path, message, _jsonable(value)),), message_type
    )


def result_from_error(
    exc: ValidationError, message_type: str | None, data: Any = None
) -> ValidationResult:
    """The invalid result for a pydantic ``ValidationError``.

    With ``message_type=None`` the error came from the discriminated union: the type is read from
    the union's tag in the error locations (or from ``data['event_type']`` for dicts).
    """
    detected = message_type
    if detected is None:
        if isinstance(data, dict):
            tag = data.get("event_type")
            detected = tag if isinstance(tag, str) and tag in MESSAGE_MODELS else None
        else:
            try:
                first = exc.errors(include_url=False, include_input=False)[0]["loc"]
            except Exception:
                first = ()
            if first and first[0] in MESSAGE_MODELS:
                detected = str(first[0])
    issues = issues_from_error(exc, strip_tag=message_type is None)
    return ValidationResult(False, None, issues, detected)


def _validate_with(
    adapter: TypeAdapter[Any], data: Any, message_type: str | None
) -> ValidationResult:
    try:
        if isinstance(data, (str, bytes, bytearray)):
            if not data.strip():
                return _invalid(message_type, "", "empty input: expected a JSON object")
            model = adapter.validate_json(data)
        elif isinstance(data, dict):
            model = adapter.validate_python(data)
        else:
            return _invalid(
                message_type,
                "",
                f"a message must be a JSON object (or raw JSON text), got {type(data).__name__}",
                data,
            )
    except ValidationError as exc:
        return result_from_error(exc, message_type, data)
    except RecursionError:
        return _invalid(message_type, "", "input is nested too deeply to validate")
    except Exception as exc:  # never raise on bad input
        return _invalid(message_type, "", f"could not validate input: {type(exc).__name__}: {exc}")
    return ValidationResult(True, model, (), str(model.event_type))


_MODEL_ADAPTERS: dict[str, TypeAdapter[Any]] = {
    name: TypeAdapter(model) for name, model in MESSAGE_MODELS.items()
}


def validate_message(data: Any, message_type: str | None = None) -> ValidationResult:
    """Validate ``data`` as any message (by its ``event_type``) or as ``message_type``.

    Never raises: an unknown ``message_type`` is itself reported as an invalid result.
    """
    if message_type is None:
        if isinstance(data, dict):
            # Dispatch dicts here: an unknown or non-string tag never reaches the union (whose
            # error path would repr the tag, which can be arbitrarily deep).
            tag = data.get("event_type")
            if isinstance(tag, str) and tag in _MODEL_ADAPTERS:
                result = _validate_with(_MODEL_ADAPTERS[tag], data, tag)
                return result
            return _invalid(
                None,
                "event_type",
                f"event_type must be one of {', '.join(EVENT_TYPES)}"
                + ("" if tag is None else f" (got {_jsonable(tag)!r})"),
                tag,
            )
        return _validate_with(MESSAGE_ADAPTER, data, None)
    adapter = _MODEL_ADAPTERS.get(message_type)
    if adapter is None:
        return _invalid(
            None,
            "event_type",
            f"unknown message type {message_type!r}; expected one of {', '.join(EVENT_TYPES)}",
            message_type,
        )
    return _validate_with(adapter, data, message_type)


def validate_bar_event(data: Any) -> ValidationResult:
    """Validate a ``bar_event``; never raises."""
    return validate_message(data, "bar_event")


def validate_tick_event(data: Any) -> ValidationResult:
    """Validate a ``tick_event``; never raises."""
    return validate_message(data, "tick_event")


def validate_ofi_event(data: Any) -> ValidationResult:
    """Validate an ``ofi_event``; never raises."""
    return validate_message(data, "ofi_event")


def validate_order_intent(data: Any) -> ValidationResult:
    """Validate an ``order_intent``; never raises."""
    return validate_message(data, "order_intent")


def validate_execution_report(data: Any) -> ValidationResult:
    """Validate an ``execution_report``; never raises."""
    return validate_message(data, "execution_report")
