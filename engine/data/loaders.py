"""Long-format CSV / Parquet files → :class:`MarketPanel`.

A file has one row per (date, symbol): ``date, symbol, open, high, low, close, volume`` plus any
optional column of SPEC §2.1. A close-only file (``date, symbol, close``) is accepted: open,
high and low are taken from the close and the volume-based parts are unavailable (a warning says
so). Unknown columns are ignored with a note. Problems that make the data untrustworthy raise
:class:`DataError` naming the file, the row (1-based line for CSV, counting the header as line 1;
1-based row for Parquet), the column, the value and the fix: values that are not numbers or
dates, duplicate (date, symbol) rows, non-positive prices, OHLC that contradict each other,
negative volumes, and dates going backwards within a symbol. Empty cells and (date, symbol)
combinations absent from the file become NaN — never forward-filled.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from engine.data.panel import ALL_FIELDS, OPTIONAL_FIELDS, MarketPanel

KEY_COLUMNS = ("date", "symbol")
PRICE_COLUMNS = ("open", "high", "low", "close")
NON_NEGATIVE = (
    "volume",
    "bid_volume",
    "ask_volume",
    "implied_vol",
    "short_interest",
    "inst_ownership",
    "revenue_actual",
    "revenue_estimate",
)


class DataError(ValueError):
    """A data file that cannot be used as is; the message names row, column, value and fix."""


@dataclass(frozen=True)
class LoadedData:
    """A loaded panel and the notes about what was assumed or dropped on the way."""

    panel: MarketPanel
    warnings: tuple[str, ...]


def load_panel(path: Path | str) -> LoadedData:
    """Load a long-format ``.csv`` or ``.parquet`` file into a panel (see module docstring)."""
    file = Path(path)
    suffix = file.suffix.lower()
    if not file.exists():
        raise DataError(f"data file {file} does not exist; check the path given to --data")
    if suffix == ".csv":
        try:
            frame = _read_csv(file)
        except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
            raise DataError(f"{file} is not a readable CSV file: {exc}") from exc
        first_row = 2
        unit = "line"
    elif suffix in (".parquet", ".pq"):
        try:
            frame = pd.read_parquet(file)
        except Exception as exc:  # pyarrow raises several unrelated types for a bad file
            raise DataError(f"{file} is not a readable Parquet file: {exc}") from exc
        first_row = 1
        unit = "row"
    else:
        raise DataError(f"{file}: unsupported file type {suffix!r}; use .csv or .parquet")
    return frame_to_panel(frame, source=str(file), first_row=first_row, unit=unit)


_NA_TOKENS = ["", "nan", "NaN", "NA", "null", "NULL"]


def _read_csv(file: Path) -> pd.DataFrame:
    """Keys as text; value columns parsed by pandas' C parser (a column with a bad token stays
    text and is checked cell by cell later, so the error can name the row)."""
    header = pd.read_csv(file, nrows=0, skipinitialspace=True)
    names = [str(c) for c in header.columns]
    keys = {c for c in names if c.strip().lower() in KEY_COLUMNS}
    return pd.read_csv(
        file,
        dtype={c: str for c in keys},
        keep_default_na=False,
        na_values={c: _NA_TOKENS for c in names if c not in keys},
        skipinitialspace=True,
    )


def frame_to_panel(
    frame: pd.DataFrame, *, source: str = "<frame>", first_row: int = 1, unit: str = "row"
) -> LoadedData:
    """Validate a long-format DataFrame and pivot it into a panel.

    ``first_row`` is the number reported for the frame's first row (2 for a CSV with a header
    line) and ``unit`` the word used ("line" or "row").
    """
    frame = frame.reset_index(drop=True)
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    warnings: list[str] = []

    def where(i: int) -> str:
        return f"{source} {unit} {first_row + i}"

    missing = [c for c in (*KEY_COLUMNS, "close") if c not in frame.columns]
    if missing:
        raise DataError(
            f"{source}: missing column(s) {missing}; a data file needs at least "
            "date, symbol, close (long format, one row per date and symbol)"
        )
    if len(frame) == 0:
        raise DataError(f"{source}: no data rows; add at least one (date, symbol, close) row")
    dupe_cols = sorted({c for c in frame.columns if list(frame.columns).count(c) > 1})
    if dupe_cols:
        raise DataError(f"{source}: column(s) {dupe_cols} appear more than once; keep one")

    extra = [c for c in frame.columns if c not in (*KEY_COLUMNS, *ALL_FIELDS)]
    if extra:
        warnings.append(f"ignored column(s) not used by algotrade: {', '.join(extra)}")

    present_ohl = [c for c in ("open", "high", "low") if c in frame.columns]
    if present_ohl and len(present_ohl) < 3:
        absent = [c for c in ("open", "high", "low") if c not in frame.columns]
        raise DataError(
            f"{source}: has {present_ohl} but not {absent}; provide all of open, high, low "
            "or none of them (close-only files are fine)"
        )

    # --- keys --------------------------------------------------------------------------------
    symbols = frame["symbol"].astype(str).str.strip()
    empty = np.flatnonzero((symbols == "") | frame["symbol"].isna().to_numpy())
    if len(empty):
        raise DataError(f"{where(int(empty[0]))}, column 'symbol': empty symbol; fill it in")
    dates = _parse_dates(frame["date"], where)

    # --- values ------------------------------------------------------------------------------
    numeric: dict[str, np.ndarray] = {}
    for col in ALL_FIELDS:
        if col in frame.columns:
            numeric[col] = _parse_numbers(frame[col], col, where)
    if not np.isfinite(numeric["close"]).any():
        raise DataError(f"{source}: column 'close' has no values; fill in the closing prices")
    for col in PRICE_COLUMNS:
        if col in numeric:
            bad = np.flatnonzero(numeric[col] <= 0)
            if len(bad):
                i = int(bad[0])
                raise DataError(
                    f"{where(i)}, column {col!r}: price {float(numeric[col][i])!r} is not positive; "
                    "prices must be > 0 (leave the cell empty if unknown)"
                )
    for col in NON_NEGATIVE:
        if col in numeric:
            bad = np.flatnonzero(numeric[col] < 0)
            if len(bad):
                i = int(bad[0])
                raise DataError(
                    f"{where(i)}, column {col!r}: value {float(numeric[col][i])!r} is negative; "
                    f"{col} must be >= 0"
                )
    if present_ohl:
        _check_ohlc(numeric, where)
    else:
        for col in ("open", "high", "low"):
            numeric[col] = numeric["close"].copy()
        warnings.append("no open/high/low columns: OHLC taken from the close (close-only data)")
    for col in OPTIONAL_FIELDS:
        if col in numeric and not np.isfinite(numeric[col]).any():
            warnings.append(f"column {col} is entirely empty: ignored")
            del numeric[col]
    if "volume" not in numeric:
        warnings.append(
            "no volume column: volume-based parts (order-flow signal, volume-scaled impact "
            "costs, participation limits) are unavailable"
        )
    for a, b in (("bid_volume", "ask_volume"), ("ask_volume", "bid_volume")):
        if a in numeric and b not in numeric:
            warnings.append(f"{a} without {b}: ignored (the order-flow signal needs both)")
            del numeric[a]

    # --- order and uniqueness ----------------------------------------------------------------
    keys = pd.DataFrame({"date": dates, "symbol": symbols})
    dup = keys.duplicated(keep="first").to_numpy()
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        first = int(
            np.flatnonzero(
                (keys["date"] == keys["date"].iloc[i]).to_numpy()
                & (keys["symbol"] == keys["symbol"].iloc[i]).to_numpy()
            )[0]
        )
        raise DataError(
            f"{where(i)}: duplicate row for date {dates[i].date()} and symbol "
            f"{symbols.iloc[i]!r} (first seen on {unit} {first_row + first}); keep one row per "
            "date and symbol"
        )
    prev = keys.groupby("symbol", sort=False)["date"].shift(1)
    backwards = (keys["date"] < prev).to_numpy()
    if backwards.any():
        i = int(np.flatnonzero(backwards)[0])
        raise DataError(
            f"{where(i)}, column 'date': {dates[i].date()} for symbol {symbols.iloc[i]!r} comes "
            f"after {prev.iloc[i].date()}; sort the rows by date within each symbol"
        )

    # --- pivot -------------------------------------------------------------------------------
    date_index = pd.DatetimeIndex(np.unique(dates.to_numpy()), name="date")
    symbol_order = tuple(sorted(symbols.unique()))
    row = date_index.get_indexer(dates)
    col = pd.Index(symbol_order).get_indexer(symbols)
    shape = (len(date_index), len(symbol_order))
    fields: dict[str, np.ndarray] = {}
    for name, values in numeric.items():
        arr = np.full(shape, np.nan)
        arr[row, col] = values
        fields[name] = arr
    n_missing = shape[0] * shape[1] - len(frame)
    if n_missing:
        warnings.append(
            f"{n_missing} (date, symbol) combination(s) absent from the file: left as NaN "
            "(not traded on those days, not forward-filled)"
        )
    n_empty_close = int(np.isnan(numeric["close"]).sum())
    if n_empty_close:
        warnings.append(f"{n_empty_close} row(s) with an empty close: treated as missing bars")
    optional = [c for c in OPTIONAL_FIELDS if c in fields]
    if optional:
        warnings.append(f"optional columns found: {', '.join(optional)}")
    panel = MarketPanel(dates=date_index, symbols=symbol_order, fields=fields)
    return LoadedData(panel=panel, warnings=tuple(warnings))


def _parse_dates(column: pd.Series, where: Callable[[int], str]) -> pd.DatetimeIndex:
    if pd.api.types.is_datetime64_any_dtype(column):
        parsed = pd.Series(pd.DatetimeIndex(column))
    else:
        text = column.astype(str).str.strip()
        # ISO only: 01/02/2024 is January in one country and February in another
        parsed = pd.to_datetime(text, errors="coerce", format="ISO8601")
    bad = np.flatnonzero(parsed.isna().to_numpy())
    if len(bad):
        i = int(bad[0])
        raise DataError(
            f"{where(i)}, column 'date': {column.iloc[i]!r} is not a date; "
            "write ISO dates like 2024-01-31"
        )
    idx = pd.DatetimeIndex(parsed)
    if idx.tz is not None:
        idx = idx.tz_convert("UTC").tz_localize(None)
    has_time = np.flatnonzero(idx.normalize() != idx)
    if len(has_time):
        i = int(has_time[0])
        raise DataError(
            f"{where(i)}, column 'date': {column.iloc[i]!r} has a time of day; daily files "
            "hold one row per calendar date (drop the time)"
        )
    return idx.as_unit("ns")


def _parse_numbers(column: pd.Series, name: str, where: Callable[[int], str]) -> np.ndarray:
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        values = column.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        text = column.astype("string").str.strip()
        blank = (text == "") | text.isna() | text.str.lower().isin(["nan", "na", "null"])
        values = pd.to_numeric(text.where(~blank, None), errors="coerce").to_numpy(
            dtype=np.float64, na_value=np.nan
        )
        bad = np.flatnonzero(np.isnan(values) & ~blank.to_numpy(dtype=bool))
        if len(bad):
            i = int(bad[0])
            raise DataError(
                f"{where(i)}, column {name!r}: {column.iloc[i]!r} is not a number; "
                "write a plain decimal number (e.g. 101.25) or leave the cell empty"
            )
    inf = np.flatnonzero(np.isinf(values))
    if len(inf):
        i = int(inf[0])
        raise DataError(
            f"{where(i)}, column {name!r}: {float(values[i])!r} is not finite; "
            "use a finite number or an empty cell"
        )
    return values


def _check_ohlc(numeric: dict[str, np.ndarray], where: Callable[[int], str]) -> None:
    o, h, lo, c = (numeric[k] for k in PRICE_COLUMNS)
    with np.errstate(invalid="ignore"):
        bad_high = h < np.fmax(np.fmax(o, c), lo)
        bad_low = lo > np.fmin(o, c)
    for mask, col, rule in (
        (bad_high, "high", "high must be >= open, low and close"),
        (bad_low, "low", "low must be <= open and close"),
    ):
        idx = np.flatnonzero(mask)
        if len(idx):
            i = int(idx[0])
            raise DataError(
                f"{where(i)}, column {col!r}: open={float(o[i])!r} high={float(h[i])!r} "
                f"low={float(lo[i])!r} close={float(c[i])!r} contradict each other; {rule}"
            )


def panel_to_frame(panel: MarketPanel) -> pd.DataFrame:
    """The panel in long format (``date, symbol, <fields>``); (date, symbol) pairs with no
    value in any field are left out (they load back as NaN)."""
    T, N = panel.T, panel.N
    data: dict[str, object] = {
        "date": np.repeat(panel.dates.strftime("%Y-%m-%d").to_numpy(), N),
        "symbol": np.tile(np.array(panel.symbols, dtype=object), T),
    }
    for name, arr in panel.fields.items():
        data[name] = arr.reshape(-1)
    frame = pd.DataFrame(data)
    any_value = np.zeros(T * N, dtype=bool)
    for arr in panel.fields.values():
        any_value |= np.isfinite(arr.reshape(-1))
    return frame[any_value].reset_index(drop=True)


def save_panel(panel: MarketPanel, path: Path | str) -> Path:
    """Write the panel as a long-format ``.csv`` or ``.parquet`` file (by suffix)."""
    file = Path(path)
    frame = panel_to_frame(panel)
    if file.suffix.lower() == ".csv":
        frame.to_csv(file, index=False, float_format="%.10g")
    elif file.suffix.lower() in (".parquet", ".pq"):
        frame.to_parquet(file, index=False)
    else:
        raise DataError(f"{file}: unsupported file type {file.suffix!r}; use .csv or .parquet")
    return file
