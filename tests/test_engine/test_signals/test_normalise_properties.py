from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from engine.signals.base import combine, zscore

pytestmark = pytest.mark.property

# values on a 1/64 grid: arbitrary floats like 5e-85 next to 1.0 vanish under x + b in
# floating point, which no normaliser can undo
grid = st.integers(-(10**6), 10**6).map(lambda i: i / 64.0)
maybe_nan = st.one_of(grid, st.just(float("nan")))
rows = arrays(np.float64, st.tuples(st.integers(1, 6), st.integers(1, 40)), elements=maybe_nan)


def _close(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(np.allclose(a, b, atol=1e-9, rtol=0, equal_nan=True))


@given(rows)
def test_zscore_is_idempotent(x: np.ndarray) -> None:
    z = zscore(x)
    assert _close(zscore(z), z)


@given(rows, st.floats(1e-3, 1e3), st.floats(-1e3, 1e3))
def test_zscore_is_invariant_to_positive_affine_maps(x: np.ndarray, a: float, b: float) -> None:
    assert _close(zscore(a * x + b), zscore(x))


@given(rows)
def test_zscore_rows_are_standardised_or_flat(x: np.ndarray) -> None:
    z = zscore(x)
    assert np.array_equal(np.isnan(z), np.isnan(z) | ~np.isfinite(x))  # NaN in → NaN out
    for row_in, row in zip(x, z, strict=True):
        vals = row[np.isfinite(row)]
        if np.isfinite(row_in).sum() < 3:
            assert vals.size == 0
        elif vals.size and np.any(vals != 0):
            assert abs(vals.mean()) < 1e-9 and abs(vals.std() - 1.0) < 1e-9


@given(rows)
def test_combine_of_one_part_is_its_zscore(x: np.ndarray) -> None:
    assert _close(combine([x]), zscore(x))


def test_winsorisation_tames_an_outlier() -> None:
    x = np.concatenate([np.linspace(-1.0, 1.0, 99), [1e9]])[None, :]
    z = zscore(x)[0]
    assert z[-1] < 5.0
    assert np.isfinite(z).all()
