"""The asset universe: ``data/assets.csv``, validated against ``data/assets.schema.json``.

Each row describes one contract the order plane can trade (IBKR terms: ``sec_type`` STK routed
``SMART`` with a ``primary_exchange`` to disambiguate). The loader checks every row against the
JSON Schema (checked in next to the CSV and generated from :class:`Asset`) and then builds
:class:`Asset` models; a bad file raises :class:`AssetsError` naming the line, column, value and
the fix.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_ASSETS_PATH = REPO_ROOT / "data" / "assets.csv"
ASSETS_SCHEMA_PATH = REPO_ROOT / "data" / "assets.schema.json"
ASSETS_SCHEMA_ID = "https://algotrade.dev/schemas/data/v1/assets.schema.json"

Sector = Literal[
    "Information Technology",
    "Consumer Discretionary",
    "Communication Services",
    "Financials",
    "Health Care",
    "Energy",
    "Consumer Staples",
    "Industrials",
    "Materials",
    "Utilities",
    "Real Estate",
    "Synthetic",
]


class Asset(BaseModel):
    """One tradable contract of the universe (a row of ``data/assets.csv``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    symbol: str = Field(
        pattern=r"^[A-Z][A-Z0-9.]{0,9}$",
        title="Symbol",
        description="Exchange ticker, upper case (e.g. AAPL).",
    )
    name: str = Field(min_length=1, title="Name", description="Company name.")
    sec_type: Literal["STK"] = Field(title="Security type", description="IBKR secType; STK.")
    exchange: Literal["SMART"] = Field(
        title="Routing exchange", description="IBKR routing destination; SMART."
    )
    primary_exchange: Literal["NASDAQ", "NYSE", "ARCA", "AMEX", "BATS"] = Field(
        title="Primary exchange",
        description="Listing exchange (IBKR primaryExchange) to disambiguate SMART routing.",
    )
    currency: Literal["USD"] = Field(title="Currency", description="Quote currency.")
    sector: Sector = Field(title="Sector", description="GICS sector (Synthetic for SYN names).")
    lot_size: int = Field(ge=1, title="Lot size", description="Minimum order increment, shares.")
    min_tick: float = Field(gt=0, title="Minimum tick", description="Price increment, USD.")


_NUMERIC_COLUMNS: dict[str, type] = {"lot_size": int, "min_tick": float}


class AssetsError(ValueError):
    """An asset file that cannot be used; the message names line, column, value and fix."""


def assets_json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of one row of ``data/assets.csv`` (after type coercion)."""
    schema = Asset.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = ASSETS_SCHEMA_ID
    schema["description"] = (
        "One row of data/assets.csv. Integer and number columns are parsed from CSV text "
        "before validation."
    )
    return schema


def synthetic_asset(index: int) -> Asset:
    """The ``index``-th (1-based) synthetic symbol ``SYN001``… used beyond the bundled CSV."""
    return Asset(
        symbol=f"SYN{index:03d}",
        name=f"Synthetic asset {index}",
        sec_type="STK",
        exchange="SMART",
        primary_exchange="NYSE",
        currency="USD",
        sector="Synthetic",
        lot_size=1,
        min_tick=0.01,
    )


def load_assets(path: Path | str | None = None) -> tuple[Asset, ...]:
    """Read and validate an asset CSV (default: the bundled ``data/assets.csv``).

    Raises
    ------
    AssetsError
        Missing file or columns, a value failing the schema, or a duplicate symbol.
    """
    import jsonschema

    file = Path(path) if path is not None else DEFAULT_ASSETS_PATH
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise AssetsError(f"cannot read asset file {file}: {exc.strerror or exc}") from exc
    schema = json.loads(ASSETS_SCHEMA_PATH.read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    reader = csv.DictReader(text.splitlines())
    header = reader.fieldnames or []
    expected = list(schema["properties"])
    missing = [c for c in schema.get("required", expected) if c not in header]
    if missing:
        raise AssetsError(f"{file}: missing columns {missing}; the header must be {expected}")
    extra = [c for c in header if c not in expected]
    if extra:
        raise AssetsError(f"{file}: unknown columns {extra}; allowed columns are {expected}")
    assets: list[Asset] = []
    seen: dict[str, int] = {}
    for line_no, row in enumerate(reader, start=2):
        record = _coerce(file, line_no, row)
        errors = sorted(validator.iter_errors(record), key=lambda e: list(e.path))
        if errors:
            err = errors[0]
            column = str(err.path[0]) if err.path else "(row)"
            raise AssetsError(
                f"{file} line {line_no}, column {column!r}: value {record.get(column)!r} "
                f"is invalid ({err.message}); fix the value to match the schema "
                f"{ASSETS_SCHEMA_PATH.name}"
            )
        asset = Asset.model_validate(record)
        if asset.symbol in seen:
            raise AssetsError(
                f"{file} line {line_no}: symbol {asset.symbol!r} already listed on line "
                f"{seen[asset.symbol]}; keep one row per symbol"
            )
        seen[asset.symbol] = line_no
        assets.append(asset)
    if not assets:
        raise AssetsError(f"{file}: no assets listed; add at least one row")
    return tuple(assets)


def _coerce(file: Path, line_no: int, row: dict[str, Any]) -> dict[str, Any]:
    record: dict[str, Any] = {}
    for key, value in row.items():
        if key is None:
            raise AssetsError(f"{file} line {line_no}: more fields than header columns")
        if value is None:
            raise AssetsError(f"{file} line {line_no}: column {key!r} is empty; fill it in")
        value = value.strip()
        caster = _NUMERIC_COLUMNS.get(key)
        if caster is not None:
            try:
                record[key] = caster(value)
            except ValueError:
                kind = "an integer" if caster is int else "a number"
                raise AssetsError(
                    f"{file} line {line_no}, column {key!r}: value {value!r} is not {kind}; "
                    f"write e.g. {'1' if caster is int else '0.01'}"
                ) from None
        else:
            record[key] = value
    return record


def universe(assets: Sequence[Asset], n_assets: int | None) -> tuple[Asset, ...]:
    """The first ``n_assets`` of ``assets``, extended with ``SYN001``… when more are asked for."""
    if n_assets is None:
        return tuple(assets)
    if n_assets <= len(assets):
        return tuple(assets[:n_assets])
    extra = tuple(synthetic_asset(i) for i in range(1, n_assets - len(assets) + 1))
    return tuple(assets) + extra
