"""Field types shared by the message contracts.

Each type validates the same way whether the input is parsed JSON (``validate_json``) or Python
objects (``validate_python``), and each publishes a JSON Schema fragment that gives the same verdict.
All checks run inside pydantic-core (no Python-level validator per field), which keeps validation
about as cheap as parsing.

The rules, mirrored exactly in the JSON Schema:

- numbers are JSON numbers (never strings, never booleans) and finite;
- integers accept ``100`` and ``100.0`` (JSON Schema's ``"integer"`` does too) but not ``100.5``;
- timestamps are ISO-8601 date-times with an explicit UTC offset (``Z`` or ``+00:00``);
- UUIDs are in the canonical hyphenated 8-4-4-4-12 form.
"""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import Field, GetCoreSchemaHandler, GetJsonSchemaHandler, StringConstraints
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

FLOAT_MAX = sys.float_info.max
"""Largest finite float. Used as the JSON Schema ``maximum`` so that a number that overflows to
infinity (``1e400``) fails the schema as it fails the model."""

UTC_TIMESTAMP_PATTERN = (
    r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
    r"T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,9})?(Z|\+00:00)$"
)
UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
SYMBOL_PATTERN = r"^[A-Z0-9][A-Z0-9.\- /]{0,19}$"

_TIMESTAMP_MESSAGE = (
    "Input should be an ISO-8601 UTC date-time ending in 'Z' or '+00:00', "
    "e.g. '2025-11-17T09:30:00Z' (naive times and other offsets are not accepted)"
)
_UUID_MESSAGE = (
    "Input should be a UUID in canonical 8-4-4-4-12 hex form, "
    "e.g. '550e8400-e29b-41d4-a716-446655440000'"
)
MAX_WHOLE_NUMBER = 2**53
"""Upper bound for whole-number fields: the largest integer every JSON consumer (including ones
that read numbers as IEEE doubles) represents exactly."""

_INT_MESSAGE = "Input should be a whole number (a JSON number without a fractional part)"


class _UtcTimestamp:
    """``datetime`` that must be timezone-aware with offset 0; strings must match the pattern."""

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        from_text = core_schema.chain_schema(
            [
                core_schema.str_schema(strict=True, pattern=UTC_TIMESTAMP_PATTERN),
                core_schema.datetime_schema(tz_constraint=0),
            ]
        )
        # In JSON mode a strict datetime schema would still parse any ISO-ish string, so JSON
        # input goes through the pattern first; Python input may also be a datetime instance.
        return core_schema.json_or_python_schema(
            json_schema=core_schema.union_schema(
                [from_text],
                custom_error_type="utc_timestamp",
                custom_error_message=_TIMESTAMP_MESSAGE,
            ),
            python_schema=core_schema.union_schema(
                [core_schema.datetime_schema(strict=True, tz_constraint=0), from_text],
                custom_error_type="utc_timestamp",
                custom_error_message=_TIMESTAMP_MESSAGE,
            ),
        )

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {"type": "string", "format": "date-time", "pattern": UTC_TIMESTAMP_PATTERN}


class _CanonicalUuid:
    """``UUID``; strings must be the canonical hyphenated form."""

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        from_text = core_schema.chain_schema(
            [
                core_schema.str_schema(strict=True, pattern=UUID_PATTERN),
                core_schema.uuid_schema(),
            ]
        )
        return core_schema.json_or_python_schema(
            json_schema=core_schema.union_schema(
                [from_text], custom_error_type="uuid_format", custom_error_message=_UUID_MESSAGE
            ),
            python_schema=core_schema.union_schema(
                [core_schema.uuid_schema(strict=True), from_text],
                custom_error_type="uuid_format",
                custom_error_message=_UUID_MESSAGE,
            ),
        )

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {"type": "string", "format": "uuid", "pattern": UUID_PATTERN}


class _WholeNumber:
    """``int`` from a JSON integer or an integral float (``100.0``); never a string or a bool."""

    def __init__(self, minimum: int) -> None:
        self.minimum = minimum

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        from_float = core_schema.chain_schema(
            [
                core_schema.float_schema(strict=True, allow_inf_nan=False),
                core_schema.int_schema(),
            ]
        )
        whole = core_schema.union_schema(
            [core_schema.int_schema(strict=True), from_float],
            custom_error_type="whole_number",
            custom_error_message=_INT_MESSAGE,
        )
        # The bound is checked after the type so its error names the bound, not the type.
        return core_schema.chain_schema(
            [whole, core_schema.int_schema(ge=self.minimum, le=MAX_WHOLE_NUMBER)]
        )

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {"type": "integer", "minimum": self.minimum, "maximum": MAX_WHOLE_NUMBER}


UtcTimestamp = Annotated[datetime, _UtcTimestamp]
"""Timezone-aware UTC ``datetime`` (offset 0)."""

CanonicalUuid = Annotated[UUID, _CanonicalUuid]
"""``UUID`` written in canonical hyphenated form."""

PositiveInt = Annotated[int, _WholeNumber(minimum=1)]
"""Integer in [1, 2**53] (``100`` and ``100.0`` accepted, ``100.5``, ``"100"`` and ``true`` rejected)."""

NonNegativeInt = Annotated[int, _WholeNumber(minimum=0)]
"""Integer in [0, 2**53]."""

Price = Annotated[float, Field(strict=True, allow_inf_nan=False, gt=0, le=FLOAT_MAX)]
"""Finite price > 0, in the instrument's quote currency."""

Quantity = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0, le=FLOAT_MAX)]
"""Finite size or volume ≥ 0 (shares, contracts or units; fractional allowed)."""

FiniteFloat = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=-FLOAT_MAX, le=FLOAT_MAX)]
"""Any finite number."""

Symbol = Annotated[str, StringConstraints(strict=True, pattern=SYMBOL_PATTERN)]
"""Upper-case ticker: 1-20 of A-Z, 0-9, '.', '-', ' ', '/', starting with a letter or digit."""

Identifier = Annotated[str, StringConstraints(strict=True, min_length=1, max_length=64)]
"""Non-empty identifier string of at most 64 characters (broker order id, execution id)."""
