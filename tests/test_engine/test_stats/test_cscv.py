"""CSCV / PBO: brute-force agreement, the blocking rule, and the paper's limiting cases."""

from __future__ import annotations

from itertools import combinations
from math import comb

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.stats.cscv import cscv, split_matrix


def brute_force_logits(m: np.ndarray, n_blocks: int) -> np.ndarray:
    """The paper's procedure, one split at a time, with explicit slices (reference)."""
    used = m[len(m) % n_blocks :]
    blocks = np.split(used, n_blocks)
    n_cfg = m.shape[1]
    out = []
    for chosen in combinations(range(n_blocks), n_blocks // 2):
        is_rows = np.vstack([blocks[i] for i in chosen])
        oos_rows = np.vstack([blocks[i] for i in range(n_blocks) if i not in chosen])
        is_sr = is_rows.mean(0) / is_rows.std(0, ddof=1)
        oos_sr = oos_rows.mean(0) / oos_rows.std(0, ddof=1)
        best = int(np.argmax(is_sr))
        rank = 1 + int((oos_sr < oos_sr[best]).sum())
        omega = rank / (n_cfg + 1)
        out.append(np.log(omega / (1 - omega)))
    return np.asarray(out)


@pytest.mark.unit
@pytest.mark.parametrize(("t", "n_blocks"), [(120, 6), (103, 6), (250, 10)])
def test_vectorised_splits_match_brute_force(t: int, n_blocks: int) -> None:
    m = np.random.default_rng(t).normal(0.0005, 0.01, (t, 9))
    result = cscv(m, n_blocks)
    np.testing.assert_allclose(result.logits, brute_force_logits(m, n_blocks), atol=1e-12)
    assert result.n_splits == comb(n_blocks, n_blocks // 2)
    assert result.rows_dropped == t % n_blocks
    assert result.rows_used == t - t % n_blocks


@pytest.mark.unit
def test_earliest_rows_are_the_ones_dropped() -> None:
    rng = np.random.default_rng(4)
    m = rng.normal(0, 0.01, (100, 5))
    garbage = np.vstack([np.full((4, 5), 99.0), m])  # 104 rows, S = 10 → drop 4
    a, b = cscv(m, 10), cscv(garbage, 10)
    np.testing.assert_array_equal(a.logits, b.logits)


@pytest.mark.unit
def test_split_matrix_is_balanced_and_complete() -> None:
    mask = split_matrix(16)
    assert mask.shape == (12870, 16)
    assert np.all(mask.sum(axis=1) == 8)
    assert len({row.tobytes() for row in mask}) == 12870
    with pytest.raises(ValueError, match="even number"):
        split_matrix(7)


@pytest.mark.unit
def test_degradation_and_loss_on_a_dominant_strategy() -> None:
    rng = np.random.default_rng(5)
    m = rng.normal(0, 0.01, (1000, 40))
    m[:, 3] += 0.004
    result = cscv(m, 10)
    assert result.pbo == 0.0
    assert result.prob_oos_loss == 0.0
    assert np.all(result.best_is == 3)


@pytest.mark.unit
def test_mean_metric_and_input_errors() -> None:
    m = np.random.default_rng(6).normal(0, 0.01, (200, 4))
    assert cscv(m, 4, metric="mean").metric == "mean"
    m[3, 1] = np.nan
    with pytest.raises(ValueError, match="1 NaN/inf"):
        cscv(m, 4)
    with pytest.raises(ValueError, match="too short"):
        cscv(np.zeros((10, 3)), 16)


@pytest.mark.property
@settings(max_examples=10, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**31))
def test_pbo_of_pure_noise_is_near_one_half(seed: int) -> None:
    # One noise matrix gives a PBO spread of roughly ±0.2 (splits share data), so average 24.
    rng = np.random.default_rng(seed)
    pbos = [cscv(rng.normal(0, 0.01, (480, 30)), 8).pbo for _ in range(24)]
    assert abs(float(np.mean(pbos)) - 0.5) < 0.2


@pytest.mark.property
@settings(max_examples=15, deadline=None)
@given(
    seed=st.integers(min_value=0, max_value=2**31),
    n_cfg=st.integers(min_value=2, max_value=40),
    edge=st.floats(min_value=0.003, max_value=0.02),
)
def test_pbo_of_one_dominant_strategy_is_near_zero(seed: int, n_cfg: int, edge: float) -> None:
    rng = np.random.default_rng(seed)
    m = rng.normal(0, 0.01, (600, n_cfg))
    m[:, rng.integers(n_cfg)] += edge
    result = cscv(m, 8)
    assert result.pbo <= 0.05
    assert 0.0 <= result.prob_oos_loss <= 0.05
