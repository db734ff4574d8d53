from __future__ import annotations

from pathlib import Path

import pytest

from engine.data.assets import AssetsError, load_assets, universe
from engine.data.schema_files import data_schemas
from engine.data.seeds import Seeds, SeedsError, load_seeds


def test_bundled_assets_load_and_are_real_us_equities() -> None:
    assets = load_assets()
    assert 45 <= len(assets) <= 60
    assert {a.sec_type for a in assets} == {"STK"}
    assert {a.exchange for a in assets} == {"SMART"}
    assert {a.currency for a in assets} == {"USD"}
    assert {"AAPL", "MSFT", "JPM", "XOM"} <= {a.symbol for a in assets}
    assert len({a.sector for a in assets}) >= 10


def test_universe_extends_with_synthetic_symbols() -> None:
    assets = load_assets()
    big = universe(assets, len(assets) + 3)
    assert [a.symbol for a in big[-3:]] == ["SYN001", "SYN002", "SYN003"]
    assert len(universe(assets, 5)) == 5


def test_checked_in_schemas_match_the_models() -> None:
    for path, text in data_schemas().items():
        assert path.read_text(encoding="utf-8") == text, (
            f"{path.name} drifted; run python -m engine.data.schema_files"
        )


HEADER = "symbol,name,sec_type,exchange,primary_exchange,currency,sector,lot_size,min_tick\n"


@pytest.mark.parametrize(
    ("row", "match"),
    [
        (
            "AAPL,Apple,STK,SMART,NASDAQ,USD,Information Technology,one,0.01",
            "line 2.*lot_size.*integer",
        ),
        (
            "AAPL,Apple,OPT,SMART,NASDAQ,USD,Information Technology,1,0.01",
            "line 2.*sec_type.*'OPT'",
        ),
        ("aapl,Apple,STK,SMART,NASDAQ,USD,Information Technology,1,0.01", "line 2.*symbol"),
        ("AAPL,Apple,STK,SMART,NASDAQ,USD,Information Technology,1,0", "line 2.*min_tick"),
    ],
)
def test_bad_asset_rows_name_line_and_column(tmp_path: Path, row: str, match: str) -> None:
    path = tmp_path / "assets.csv"
    path.write_text(HEADER + row + "\n")
    with pytest.raises(AssetsError, match=match):
        load_assets(path)


def test_duplicate_asset_symbol(tmp_path: Path) -> None:
    row = "AAPL,Apple,STK,SMART,NASDAQ,USD,Information Technology,1,0.01\n"
    path = tmp_path / "assets.csv"
    path.write_text(HEADER + row + row)
    with pytest.raises(AssetsError, match=r"line 3.*already listed on line 2"):
        load_assets(path)


def test_seeds_load_and_validate(tmp_path: Path) -> None:
    seeds = load_seeds()
    assert isinstance(seeds, Seeds)
    assert seeds.market == 42
    bad = tmp_path / "seeds.yaml"
    bad.write_text(
        Path(load_seeds.__globals__["DEFAULT_SEEDS_PATH"])
        .read_text()
        .replace("tests: 1234", "tests: -1")
    )
    with pytest.raises(SeedsError, match="tests"):
        load_seeds(bad)
