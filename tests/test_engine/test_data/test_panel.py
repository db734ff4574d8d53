from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine.data.panel import MarketPanel, PanelError


def make_panel(T: int = 5, N: int = 3, *, extra: bool = False) -> MarketPanel:
    dates = pd.bdate_range("2024-01-01", periods=T)
    close = 100.0 + np.arange(T * N, dtype=float).reshape(T, N)
    fields = {"open": close - 0.5, "high": close + 1.0, "low": close - 1.0, "close": close}
    if extra:
        fields["volume"] = np.full((T, N), 1000.0)
    return MarketPanel(dates=dates, symbols=tuple(f"S{i}" for i in range(N)), fields=fields)


def test_shape_access_and_returns() -> None:
    panel = make_panel(extra=True)
    assert (panel.T, panel.N) == (5, 3)
    assert panel.has("volume") and not panel.has("sentiment")
    assert panel.get("sentiment") is None
    ret = panel.returns()
    assert np.isnan(ret[0]).all()
    assert ret[1, 0] == pytest.approx(103.0 / 100.0 - 1.0)


def test_arrays_are_read_only_copies() -> None:
    close = np.ones((2, 2)) * 10.0
    panel = MarketPanel(
        dates=pd.bdate_range("2024-01-01", periods=2),
        symbols=("A", "B"),
        fields={"open": close, "high": close, "low": close, "close": close},
    )
    close[0, 0] = 99.0
    assert panel.close[0, 0] == 10.0
    with pytest.raises(ValueError):
        panel.close[0, 0] = 1.0


def test_truncate_select_between() -> None:
    panel = make_panel(T=10)
    head = panel.truncate(4)
    assert head.T == 4 and np.array_equal(head.close, panel.close[:4])
    sub = panel.select(["S2", "S0"])
    assert sub.symbols == ("S2", "S0")
    assert np.array_equal(sub.close[:, 0], panel.close[:, 2])
    mid = panel.between("2024-01-03", "2024-01-05")
    assert list(mid.dates.strftime("%Y-%m-%d")) == ["2024-01-03", "2024-01-04", "2024-01-05"]
    with pytest.raises(PanelError, match="not in panel"):
        panel.select(["XXX"])


def test_fingerprint_tracks_content() -> None:
    a, b = make_panel(), make_panel()
    assert a.fingerprint() == b.fingerprint()
    changed = a.with_fields({"close": a.close * 1.0000001})
    assert changed.fingerprint() != a.fingerprint()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"dates": pd.DatetimeIndex(["2024-01-02", "2024-01-01"])}, "strictly increasing"),
        ({"symbols": ("A", "A")}, "duplicate symbols"),
        ({"drop": "high"}, "missing required"),
        ({"bad_shape": True}, "shape"),
    ],
)
def test_invalid_panels_are_rejected(kwargs: dict[str, object], match: str) -> None:
    dates = kwargs.get("dates", pd.bdate_range("2024-01-01", periods=2))
    symbols = kwargs.get("symbols", ("A", "B"))
    arr = np.ones((3, 2)) if kwargs.get("bad_shape") else np.ones((2, 2))
    fields = {k: arr for k in ("open", "high", "low", "close") if k != kwargs.get("drop")}
    with pytest.raises(PanelError, match=match):
        MarketPanel(dates=dates, symbols=symbols, fields=fields)  # type: ignore[arg-type]
