"""Probabilistic Sharpe Ratio.

Bailey, D. H. & López de Prado, M. (2012), "The Sharpe Ratio Efficient Frontier", *Journal of
Risk* 15(2), eq. (7)::

    PSR(SR*) = Φ( (SR̂ − SR*)·√(n − 1) / √(1 − γ₃·SR̂ + (γ₄ − 1)/4·SR̂²) )

with SR̂ the **per-period** (not annualised) Sharpe ratio of the n observed returns, γ₃ their
skewness and γ₄ their **non-excess** kurtosis (3 for a normal distribution), both from biased
(population, divide-by-n) moments, and Φ the standard normal CDF. SR̂ uses the sample standard
deviation with ddof=1 — the choice of the paper's reference code; with ddof=0 the value changes in
the third decimal for n ≈ 100.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PSRResult:
    """PSR and the moments it was computed from."""

    psr: float
    sharpe: float  # per period
    skew: float
    kurtosis: float  # non-excess
    n: int


def _norm_cdf(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def psr_from_moments(
    sharpe: float, skew: float, kurtosis: float, n: int, sr_benchmark: float = 0.0
) -> float:
    """PSR from per-period Sharpe, skew, non-excess kurtosis and sample size (eq. 7)."""
    if n < 2:
        return float("nan")
    var = 1.0 - skew * sharpe + (kurtosis - 1.0) / 4.0 * sharpe * sharpe
    if var <= 0:
        # Only reachable with extreme skew; the statistic is undefined there.
        return float("nan")
    return _norm_cdf((sharpe - sr_benchmark) * math.sqrt(n - 1) / math.sqrt(var))


def psr_details(returns: np.ndarray, sr_benchmark: float = 0.0) -> PSRResult:
    """PSR of ``returns`` (n,) with the moments used; NaN PSR when n < 2 or zero variance."""
    r = np.asarray(returns, dtype=float)
    r = r[np.isfinite(r)]
    n = len(r)
    if n < 2:
        return PSRResult(float("nan"), float("nan"), float("nan"), float("nan"), n)
    mean = float(r.mean())
    dev = r - mean
    m2 = float(np.mean(dev**2))
    sd = float(np.std(r, ddof=1))
    if m2 <= 0 or sd <= 0:
        return PSRResult(float("nan"), 0.0, 0.0, 3.0, n)
    skew = float(np.mean(dev**3)) / m2**1.5
    kurt = float(np.mean(dev**4)) / m2**2
    sharpe = mean / sd
    return PSRResult(psr_from_moments(sharpe, skew, kurt, n, sr_benchmark), sharpe, skew, kurt, n)


def probabilistic_sharpe_ratio(returns: np.ndarray, sr_benchmark: float = 0.0) -> float:
    """PSR(SR*) of per-period ``returns`` against the per-period benchmark Sharpe ``sr_benchmark``."""
    return psr_details(returns, sr_benchmark).psr


class OnlinePSR:
    """PSR updated one return at a time from running power sums (O(1) per update).

    Numerically it centres the sums on the first observation, so daily returns of order 1e-2
    keep full precision over decades of data.
    """

    def __init__(self, sr_benchmark: float = 0.0) -> None:
        self.sr_benchmark = sr_benchmark
        self.n = 0
        self._shift = 0.0
        self._s1 = self._s2 = self._s3 = self._s4 = 0.0

    def update(self, r: float) -> None:
        if not math.isfinite(r):
            return
        if self.n == 0:
            self._shift = r
        x = r - self._shift
        self.n += 1
        self._s1 += x
        self._s2 += x * x
        self._s3 += x**3
        self._s4 += x**4

    def value(self) -> float:
        n = self.n
        if n < 2:
            return float("nan")
        m = self._s1 / n
        m2 = self._s2 / n - m * m
        if m2 <= 1e-300:
            return float("nan")
        m3 = self._s3 / n - 3 * m * self._s2 / n + 2 * m**3
        m4 = self._s4 / n - 4 * m * self._s3 / n + 6 * m * m * self._s2 / n - 3 * m**4
        sd = math.sqrt(m2 * n / (n - 1))
        sharpe = (m + self._shift) / sd
        return psr_from_moments(sharpe, m3 / m2**1.5, m4 / m2**2, n, self.sr_benchmark)
