from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine.config import SyntheticMarketConfig
from engine.data.loaders import DataError, load_panel, save_panel
from engine.data.synthetic import SyntheticMarket

MARKET = Path(__file__).resolve().parents[2] / "data" / "market"

# file name → (pattern the error must match: file line, column, value, fix)
NEGATIVE = {
    "bad_number.csv": r"line 3, column 'close': 'ten' is not a number; write",
    "duplicate_row.csv": r"line 5: duplicate row for date 2024-01-03 and symbol 'AAA' \(first seen on line 3\)",
    "non_positive_price.csv": r"line 3, column 'close': price 0.0 is not positive",
    "unsorted_dates.csv": r"line 4, column 'date': 2024-01-03 for symbol 'AAA' comes after 2024-01-04; sort",
    "bad_date.csv": r"line 3, column 'date': '2024-13-45' is not a date; write ISO dates",
    "ohlc_contradiction.csv": r"line 3, column 'high': .*high must be >= open, low and close",
    "missing_close_column.csv": r"missing column\(s\) \['close'\]",
    "partial_ohlc.csv": r"has \['open'\] but not \['high', 'low'\]",
    "negative_volume.csv": r"line 3, column 'volume': value -5.0 is negative",
    "empty_close.csv": r"column 'close' has no values",
}


def test_every_negative_file_has_an_expectation() -> None:
    assert sorted(p.name for p in (MARKET / "negative").iterdir()) == sorted(NEGATIVE)


@pytest.mark.parametrize("name", sorted(NEGATIVE))
def test_bad_file_is_rejected_naming_the_row(name: str) -> None:
    with pytest.raises(DataError, match=NEGATIVE[name]) as info:
        load_panel(MARKET / "negative" / name)
    assert name in str(info.value)


def test_full_file_with_extra_column_and_a_missing_combination() -> None:
    loaded = load_panel(MARKET / "positive" / "ohlcv_extra_column.csv")
    panel = loaded.panel
    assert panel.symbols == ("AAA", "BBB")
    assert list(panel.dates.strftime("%m-%d")) == ["01-02", "01-03", "01-04", "01-05"]
    assert np.isnan(panel.close[2, 1])  # BBB has no row on 01-04: NaN, not forward-filled
    assert panel.close[3, 1] == 19.9
    assert panel.has("volume") and not panel.has("bid_volume")
    text = " | ".join(loaded.warnings)
    assert "ignored column(s) not used by algotrade: note" in text
    assert "1 (date, symbol) combination(s) absent" in text


def test_close_only_file() -> None:
    loaded = load_panel(MARKET / "positive" / "close_only.csv")
    panel = loaded.panel
    assert np.array_equal(panel.fields["open"], panel.close, equal_nan=True)
    assert np.array_equal(panel.fields["high"], panel.close, equal_nan=True)
    assert np.isnan(panel.close[2, 1])  # the empty cell
    assert not panel.has("volume")
    text = " | ".join(loaded.warnings)
    assert "OHLC taken from the close" in text
    assert "no volume column" in text


def test_parquet_sample_has_every_column() -> None:
    panel = load_panel(MARKET / "positive" / "synthetic_all_columns.parquet").panel
    assert panel.N == 3 and panel.T == 30
    assert panel.has("sentiment") and panel.has("eps_actual")


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_round_trip_preserves_the_panel(tmp_path: Path, suffix: str) -> None:
    panel = SyntheticMarket(SyntheticMarketConfig(years=0.25, n_assets=4)).daily_panel()
    loaded = load_panel(save_panel(panel, tmp_path / f"m{suffix}")).panel.select(panel.symbols)
    for name, arr in panel.fields.items():
        assert np.allclose(arr, loaded.fields[name], rtol=1e-9, equal_nan=True), name
    if suffix == ".parquet":
        assert loaded.fingerprint() == panel.fingerprint()


def test_parquet_rows_are_numbered_from_one(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {"date": ["2024-01-02", "2024-01-02"], "symbol": ["A", "A"], "close": [1.0, 2.0]}
    )
    path = tmp_path / "d.parquet"
    frame.to_parquet(path)
    with pytest.raises(DataError, match=r"row 2: duplicate row"):
        load_panel(path)


def test_unsupported_suffix_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        load_panel(tmp_path / "nope.csv")
    odd = tmp_path / "data.xlsx"
    odd.write_text("x")
    with pytest.raises(DataError, match=r"use \.csv or \.parquet"):
        load_panel(odd)


def test_entirely_empty_optional_column_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("date,symbol,close,sentiment\n2024-01-02,A,1.0,\n2024-01-03,A,1.1,\n")
    loaded = load_panel(path)
    assert not loaded.panel.has("sentiment")
    assert "column sentiment is entirely empty: ignored" in loaded.warnings


@pytest.mark.parametrize("value", ["01/02/2024", "2024-01-02 15:30:00"])
def test_ambiguous_or_timed_dates_are_rejected(tmp_path: Path, value: str) -> None:
    path = tmp_path / "d.csv"
    path.write_text(f"date,symbol,close\n2024-01-01,A,1.0\n{value},A,1.1\n")
    with pytest.raises(DataError, match=r"line 3, column 'date'"):
        load_panel(path)
