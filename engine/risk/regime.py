"""Causal three-state regime filter (SPEC §2.4): a Gaussian HMM on market-stress features.

**Features** (:func:`regime_features`, all computed from closes up to and including day t):

0. ``log`` of the annualised volatility of the equal-weight market return over ``vol_window`` days;
1. the market's drawdown from its running peak (≤ 0);
2. *correlation breakdown*: the average pairwise correlation of the assets' returns over the last
   ``corr_short`` days minus that over the last ``corr_long`` days (correlations jump in a crisis).

**Model.** A Gaussian hidden Markov model with K = 3 states (full or diagonal covariances),
fitted by EM (Baum–Welch) on the features standardised over the fit window. Forward and backward
passes run as a log-depth scan of 3 × 3 matrix products with per-product rescaling (equivalent to
the scaled recursions, vectorised over time). Several seeded initialisations (volatility terciles,
random rows and, on a refit, the previous fit) — the best likelihood wins. After every fit the
states are **ordered by the mean of feature 0** (volatility): 0 Calm < 1 Normal < 2 Storm, so labels
never switch between refits.

**Causality.** :meth:`RegimeFilter.run` refits on an expanding (or rolling ``window``) sample every
``refit_every`` days, the first fit once ``min_fit_obs`` valid feature rows exist. The regime at
day t is the argmax of the **filtered** probability ``P(state_t | features_≤t)`` — a forward
recursion with parameters fitted on data ≤ t. Smoothed probabilities and Viterbi paths, which
look at the future, are never used. The refit schedule is anchored at the first fit, so appending
data never changes any earlier row. Before the first fit the regime is Normal.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from engine.config import RegimeConfig

CALM, NORMAL, STORM = 0, 1, 2
REGIME_NAMES = ("calm", "normal", "storm")
FEATURE_NAMES = ("log_volatility", "drawdown", "correlation_breakdown")
CovarianceType = Literal["full", "diag"]

_REG_COVAR = 1e-4  # added to standardised covariances: keeps a sparse state well-posed
_TRANS_FLOOR = 1e-8


# --------------------------------------------------------------------------------- features --
def _average_correlation(returns: np.ndarray, window: int) -> np.ndarray:
    """Average pairwise correlation (T,) over the trailing ``window`` rows (NaN before)."""
    t, n = returns.shape
    out = np.full(t, np.nan)
    if t < window or n < 2:
        return out
    views = sliding_window_view(returns, window, axis=0)  # (T−w+1, N, w), no copy
    mean = views.mean(axis=2)
    sd = views.std(axis=2, ddof=1)
    live = sd > 0
    inv_sd = np.where(live, 1.0 / np.where(live, sd, 1.0), 0.0)
    # Σ_i z_τi over assets for each window row τ; 1ᵀC1 = Σ_τ (Σ_i z_τi)² / (w − 1).
    row_sums = np.einsum("tnw,tn->tw", views, inv_sd) - (mean * inv_sd).sum(axis=1)[:, None]
    total = (row_sums**2).sum(axis=1) / (window - 1)
    n_eff = live.sum(axis=1).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        avg = (total - n_eff) / (n_eff * (n_eff - 1))
    out[window - 1 :] = np.where(n_eff >= 2, avg, np.nan)
    return out


def regime_features(
    close: Any,
    *,
    vol_window: int = 21,
    corr_short: int = 21,
    corr_long: int = 126,
    drawdown_window: int | None = 21,
    periods_per_year: int = 252,
) -> np.ndarray:
    """Regime features (T, 3) from closes (T, N) or anything with a ``.close`` array.

    Row t uses closes up to and including row t only; rows without enough history are NaN.
    Missing closes give NaN returns: the market return is the mean of the available ones, and a
    missing return counts as 0 in the correlation windows.
    """
    prices = np.asarray(getattr(close, "close", close), dtype=float)
    if prices.ndim != 2:
        raise ValueError(f"close must be (T, N); got shape {prices.shape}")
    t = prices.shape[0]
    returns = np.full(prices.shape, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        returns[1:] = prices[1:] / prices[:-1] - 1.0
    with np.errstate(invalid="ignore"):
        counts = np.isfinite(returns).sum(axis=1)
        market = np.where(counts > 0, np.nansum(returns, axis=1) / np.maximum(counts, 1), np.nan)
    features = np.full((t, 3), np.nan)

    if t >= vol_window + 1:
        vol = np.full(t, np.nan)
        windows = sliding_window_view(market[1:], vol_window)
        vol[vol_window:] = windows.std(axis=1, ddof=1) * np.sqrt(periods_per_year)
        with np.errstate(divide="ignore", invalid="ignore"):
            features[:, 0] = np.log(vol)
        features[~np.isfinite(features[:, 0]), 0] = np.nan

    equity = np.cumprod(1.0 + np.nan_to_num(market, nan=0.0))
    if drawdown_window is None:
        peak = np.maximum.accumulate(equity)
    else:
        # Peak over the trailing window (shorter at the start): keeps the feature stationary.
        peak = np.maximum.accumulate(equity[:drawdown_window])
        if t > drawdown_window:
            rolling = sliding_window_view(equity, drawdown_window).max(axis=1)
            peak = np.concatenate([peak, rolling[1:]])
    features[1:, 1] = (equity / peak - 1.0)[1:]

    filled = np.nan_to_num(returns[1:], nan=0.0)
    short = _average_correlation(filled, corr_short)
    long = _average_correlation(filled, corr_long)
    features[1:, 2] = short - long
    return features


# ---------------------------------------------------------------------------------- the HMM --
@dataclass(frozen=True)
class HMMParams:
    """A fitted Gaussian HMM; emissions live in standardised units ``(x − center) / scale``."""

    start: np.ndarray  # (K,)
    trans: np.ndarray  # (K, K), rows sum to 1
    means: np.ndarray  # (K, D) standardised
    covs: np.ndarray  # (K, D, D) standardised
    center: np.ndarray  # (D,)
    scale: np.ndarray  # (D,)
    loglik: float
    n_iter: int
    converged: bool

    def raw_means(self) -> np.ndarray:
        """State means (K, D) in feature units."""
        return self.means * self.scale + self.center

    def restandardise(self, center: np.ndarray, scale: np.ndarray) -> HMMParams:
        """The same model expressed in another standardisation (for warm starts)."""
        ratio = self.scale / scale
        means = (self.means * self.scale + self.center - center) / scale
        covs = self.covs * ratio[None, :, None] * ratio[None, None, :]
        return HMMParams(self.start, self.trans, means, covs, center, scale, self.loglik, 0, False)


def _log_emission(x: np.ndarray, means: np.ndarray, covs: np.ndarray) -> np.ndarray:
    """log N(x_t; m_k, C_k) (T, K); rows with NaN get 0 (no information)."""
    t, d = x.shape
    k = means.shape[0]
    out = np.zeros((t, k))
    valid = np.all(np.isfinite(x), axis=1)
    xv = x[valid]
    for j in range(k):
        chol = np.linalg.cholesky(covs[j])
        diff = np.linalg.solve(chol, (xv - means[j]).T)
        logdet = 2.0 * np.log(np.diag(chol)).sum()
        out[valid, j] = -0.5 * ((diff**2).sum(axis=0) + logdet + d * np.log(2 * np.pi))
    return out


def _scan(mats: np.ndarray, *, later_on_left: bool) -> tuple[np.ndarray, np.ndarray]:
    """Inclusive prefix products of (T, K, K) matrices with log scales (Hillis–Steele).

    ``later_on_left=False``: ``P_t ∝ M_0 M_1 ⋯ M_t``; ``True``: ``P_t ∝ M_t ⋯ M_1 M_0``. Each
    product is divided by its sum; ``logscale[t]`` accumulates the logs of the divisors. Row t
    depends only on rows ≤ t, whatever the length of ``mats``.
    """
    t, k, _ = mats.shape
    prods = mats.copy()
    sums = prods.reshape(t, k * k).sum(axis=1)
    prods /= sums[:, None, None]
    logscale = np.log(sums)
    shift = 1
    while shift < t:
        earlier, later = prods[:-shift], prods[shift:]
        combined = later @ earlier if later_on_left else earlier @ later
        sums = combined.reshape(t - shift, k * k).sum(axis=1)
        combined /= sums[:, None, None]
        logscale[shift:] = logscale[:-shift] + logscale[shift:] + np.log(sums)
        prods[shift:] = combined
        shift *= 2
    return prods, logscale


def _forward(
    log_b: np.ndarray, trans: np.ndarray, initial: np.ndarray
) -> tuple[np.ndarray, float, np.ndarray]:
    """Filtered probabilities (T, K) ``P(s_t | x_≤t)``, log-likelihood, scaled emissions.

    ``initial`` is the state distribution *before* row 0's observation (start probabilities, or
    the previous filtered probabilities pushed through the transition matrix).
    """
    shift = log_b.max(axis=1)
    b = np.exp(log_b - shift[:, None])
    alpha0 = initial * b[0]
    filtered = np.empty_like(b)
    filtered[0] = alpha0 / alpha0.sum()
    loglik = float(np.log(alpha0.sum()) + shift.sum())
    if len(b) > 1:
        mats = trans[None, :, :] * b[1:, None, :]  # A · diag(b_t)
        prods, logscale = _scan(mats, later_on_left=False)
        alpha = np.einsum("i,tij->tj", alpha0, prods)
        sums = alpha.sum(axis=1)
        filtered[1:] = alpha / sums[:, None]
        loglik = float(np.log(sums[-1]) + logscale[-1] + shift.sum())
    return filtered, loglik, b


def _backward(b: np.ndarray, trans: np.ndarray) -> np.ndarray:
    """Backward messages (T, K), each row normalised to sum 1."""
    t, k = b.shape
    beta = np.ones((t, k)) / k
    if t > 1:
        mats = trans[None, :, :] * b[1:, None, :]  # M_{t} for t = 1..T−1
        prods, _ = _scan(mats[::-1], later_on_left=True)  # M_{T−1}, M_{T−1}M_{T−2}… reversed
        # prods[j] ∝ M_{T−1−j} ⋯ M_{T−1}; β_{T−2−j} = prods[j] · 1
        raw = prods.sum(axis=2)
        beta[: t - 1] = (raw / raw.sum(axis=1)[:, None])[::-1]
    return beta


def _m_step(
    x: np.ndarray,
    valid: np.ndarray,
    gamma: np.ndarray,
    xi_sum: np.ndarray,
    covariance: CovarianceType,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    k = gamma.shape[1]
    d = x.shape[1]
    start = gamma[0] + 1e-12
    start /= start.sum()
    trans = xi_sum + _TRANS_FLOOR
    trans /= trans.sum(axis=1, keepdims=True)
    g = gamma[valid]
    xv = x[valid]
    weights = g.sum(axis=0) + 1e-12
    means = (g.T @ xv) / weights[:, None]
    covs = np.empty((k, d, d))
    for j in range(k):
        diff = xv - means[j]
        c = (g[:, j, None] * diff).T @ diff / weights[j]
        if covariance == "diag":
            c = np.diag(np.diag(c))
        covs[j] = c + _REG_COVAR * np.eye(d)
    return start, trans, means, covs


def _em(
    x: np.ndarray,
    start: np.ndarray,
    trans: np.ndarray,
    means: np.ndarray,
    covs: np.ndarray,
    covariance: CovarianceType,
    max_iter: int,
    tol: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float, int, bool]:
    valid = np.all(np.isfinite(x), axis=1)
    previous = -np.inf
    loglik = -np.inf
    for iteration in range(1, max_iter + 1):
        log_b = _log_emission(x, means, covs)
        filtered, loglik, b = _forward(log_b, trans, start)
        beta = _backward(b, trans)
        gamma = filtered * beta
        gamma /= gamma.sum(axis=1, keepdims=True)
        xi = filtered[:-1, :, None] * trans[None] * (b[1:] * beta[1:])[:, None, :]
        xi /= xi.sum(axis=(1, 2), keepdims=True)
        start, trans, means, covs = _m_step(x, valid, gamma, xi.sum(axis=0), covariance)
        if abs(loglik - previous) <= tol * max(1.0, abs(loglik)):
            return start, trans, means, covs, loglik, iteration, True
        previous = loglik
    return start, trans, means, covs, loglik, max_iter, False


def _initialisations(
    x: np.ndarray, k: int, rng: np.random.Generator, n_init: int
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    xv = x[np.all(np.isfinite(x), axis=1)]
    d = x.shape[1]
    trans = np.full((k, k), 0.05 / (k - 1))
    np.fill_diagonal(trans, 0.95)
    start = np.full(k, 1.0 / k)
    pooled = np.cov(xv, rowvar=False).reshape(d, d) + _REG_COVAR * np.eye(d)
    inits = []
    order = np.argsort(xv[:, 0], kind="stable")  # volatility terciles
    groups = np.array_split(order, k)
    means = np.stack([xv[g].mean(axis=0) for g in groups])
    covs = np.stack(
        [
            (np.cov(xv[g], rowvar=False).reshape(d, d) if len(g) > d else pooled)
            + _REG_COVAR * np.eye(d)
            for g in groups
        ]
    )
    inits.append((start, trans, means, covs))
    for _ in range(max(0, n_init - 1)):
        rows = rng.choice(len(xv), size=k, replace=False)
        inits.append((start, trans, xv[rows].copy(), np.repeat(pooled[None], k, axis=0)))
    return inits


def fit_hmm(
    features: np.ndarray,
    *,
    n_states: int = 3,
    covariance: CovarianceType = "full",
    n_init: int = 3,
    seed: int = 0,
    max_iter: int = 200,
    tol: float = 1e-6,
    warm_start: HMMParams | None = None,
    fresh_inits: bool = True,
) -> HMMParams:
    """Fit a Gaussian HMM by EM; states ordered by the mean of feature 0 (ascending).

    Parameters
    ----------
    features : ndarray (T, D)
        Rows with NaN are skipped by the emissions (the chain still steps through them).
    n_init : int
        Seeded initialisations (volatility terciles + random rows); ``warm_start`` adds one.
    warm_start, fresh_inits : HMMParams or None, bool
        Start EM from a previous fit; with ``fresh_inits`` False, from it alone.
    """
    x_raw = np.asarray(features, dtype=float)
    valid = np.all(np.isfinite(x_raw), axis=1)
    if valid.sum() < max(10, 3 * n_states):
        raise ValueError(
            f"only {int(valid.sum())} complete feature rows; the HMM needs at least "
            f"{max(10, 3 * n_states)}"
        )
    center = x_raw[valid].mean(axis=0)
    scale = x_raw[valid].std(axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    x = (x_raw - center) / scale
    rng = np.random.default_rng(seed)
    # A refit starts from the previous fit and (with fresh_inits) the volatility terciles only:
    # the previous fit already won a multi-start contest, and refits run every few weeks.
    inits = (
        _initialisations(x, n_states, rng, 1 if warm_start is not None else n_init)
        if fresh_inits or warm_start is None
        else []
    )
    if warm_start is not None:
        w = warm_start.restandardise(center, scale)
        inits.insert(0, (w.start, w.trans, w.means, w.covs))
    best: tuple[Any, ...] | None = None
    for start, trans, means, covs in inits:
        try:
            result = _em(x, start, trans, means, covs, covariance, max_iter, tol)
        except np.linalg.LinAlgError:
            continue
        if np.isfinite(result[4]) and (best is None or result[4] > best[4]):
            best = result
    if best is None:
        raise ValueError("EM failed from every initialisation (singular covariances)")
    start, trans, means, covs, loglik, n_iter, converged = best
    order = np.argsort(means[:, 0], kind="stable")
    return HMMParams(
        start=start[order],
        trans=trans[np.ix_(order, order)],
        means=means[order],
        covs=covs[order],
        center=center,
        scale=scale,
        loglik=float(loglik),
        n_iter=int(n_iter),
        converged=bool(converged),
    )


def filter_probabilities(
    params: HMMParams, features: np.ndarray, prior: np.ndarray | None = None
) -> np.ndarray:
    """Filtered probabilities (T, K) of ``features`` (T, D).

    ``prior`` is the filtered distribution of the row *before* ``features[0]`` (it is pushed
    through the transition matrix); ``None`` starts from the fitted start probabilities.
    """
    x = (np.asarray(features, dtype=float) - params.center) / params.scale
    initial = params.start if prior is None else prior @ params.trans
    log_b = _log_emission(x, params.means, params.covs)
    filtered, _, _ = _forward(log_b, params.trans, initial)
    return filtered


# ------------------------------------------------------------------------------ the filter --
@dataclass(frozen=True)
class RegimePath:
    """Causally filtered regimes.

    ``states`` (T,) int: 0 calm, 1 normal, 2 storm (Normal before the first fit); ``probs``
    (T, 3) filtered probabilities ([0, 1, 0] before the first fit); ``refit_rows`` the rows
    where the HMM was (re)fitted on data up to and including that row; ``refit_dates`` the same
    rows as dates when dates were given.
    """

    states: np.ndarray
    probs: np.ndarray
    refit_rows: np.ndarray
    refit_dates: tuple[Any, ...]
    first_fit: int | None
    params: tuple[HMMParams, ...] = field(repr=False, default=())

    def time_in_regime(self) -> dict[str, float]:
        """Share of rows (from the first fit on) spent in each regime."""
        if self.first_fit is None:
            return dict.fromkeys(REGIME_NAMES, 0.0)
        live = self.states[self.first_fit :]
        return {name: float(np.mean(live == i)) for i, name in enumerate(REGIME_NAMES)}


@dataclass(frozen=True)
class RegimeFilter:
    """Refit-and-filter schedule of SPEC §2.4 driven by ``cfg`` (config section ``regime``).

    ``cfg.window`` is the rolling fit window (also the cap when ``cfg.expanding`` is False),
    ``cfg.refit_every`` the days between EM refits. Each refit starts EM from the previous fit
    (``warm_start``); while the sample is shorter than ``cfg.window`` rows, and then on every
    ``fresh_every``-th refit, EM also restarts from the volatility terciles and keeps the better
    likelihood (``n_init`` starts on the first fit).
    """

    cfg: RegimeConfig
    covariance: CovarianceType = "diag"
    n_init: int = 3
    seed: int = 0
    min_fit_obs: int = 126
    max_iter: int = 200
    tol: float = 1e-5
    warm_start: bool = True
    fresh_every: int = 6

    def run(self, features: np.ndarray, dates: Any = None) -> RegimePath:
        """Filtered regimes for every row of ``features`` (T, D), each from data ≤ its row."""
        x = np.asarray(features, dtype=float)
        t = x.shape[0]
        states = np.full(t, NORMAL, dtype=np.int64)
        probs = np.zeros((t, 3))
        probs[:, NORMAL] = 1.0
        valid = np.all(np.isfinite(x), axis=1)
        counts = np.cumsum(valid)
        reached = np.flatnonzero(counts >= self.min_fit_obs)
        if reached.size == 0:
            return RegimePath(states, probs, np.zeros(0, dtype=np.int64), (), None)
        first_valid = int(np.argmax(valid))
        first_fit = int(reached[0])
        refits = np.arange(first_fit, t, self.cfg.refit_every, dtype=np.int64)
        fitted: list[HMMParams] = []
        previous: HMMParams | None = None
        for i, row in enumerate(refits):
            lo = (
                first_valid
                if self.cfg.expanding
                else max(first_valid, int(row) - self.cfg.window + 1)
            )
            params = fit_hmm(
                x[lo : row + 1],
                n_init=self.n_init,
                seed=self.seed + i,
                covariance=self.covariance,
                max_iter=self.max_iter,
                tol=self.tol,
                warm_start=previous if self.warm_start else None,
                # Young models move most: restart from the terciles on every refit until the
                # sample reaches cfg.window rows, then on every fresh_every-th one.
                fresh_inits=bool(i % self.fresh_every == 0 or row + 1 - lo < self.cfg.window),
            )
            fitted.append(params)
            previous = params
            window_probs = filter_probabilities(params, x[lo : row + 1])
            probs[row] = window_probs[-1]
            end = int(refits[i + 1]) if i + 1 < len(refits) else t
            if end > row + 1:
                probs[row + 1 : end] = filter_probabilities(params, x[row + 1 : end], probs[row])
        states[first_fit:] = np.argmax(probs[first_fit:], axis=1)
        refit_dates: tuple[Any, ...] = (
            tuple(dates[int(r)] for r in refits)
            if dates is not None
            else tuple(int(r) for r in refits)
        )
        return RegimePath(states, probs, refits, refit_dates, first_fit, tuple(fitted))


def limits_for(state: int, cfg: RegimeConfig) -> tuple[float, float]:
    """(gross, net) limits of a regime (SPEC §2.4: Calm 2.5/1.0, Normal 2.0/0.8, Storm 1.0/0.4)."""
    table = {CALM: cfg.calm, NORMAL: cfg.normal, STORM: cfg.storm}
    if state not in table:
        raise ValueError(f"state={state} is not a regime; use 0 calm, 1 normal or 2 storm")
    limits = table[state]
    return limits.gross, limits.net


def detect_regimes(
    panel: Any,
    cfg: RegimeConfig,
    *,
    features: Sequence[str] = FEATURE_NAMES,
    **filter_options: Any,
) -> RegimePath:
    """Features of ``panel`` (a MarketPanel or a (T, N) close array) → causal regime path.

    ``features`` selects which of :data:`FEATURE_NAMES` the HMM sees (all three by default;
    ``("log_volatility",)`` gives a volatility-only model). ``filter_options`` go to
    :class:`RegimeFilter` (``covariance``, ``min_fit_obs``, ``seed``…); refit dates are the
    panel's dates when it has them.
    """
    unknown = [f for f in features if f not in FEATURE_NAMES]
    if unknown or not features:
        raise ValueError(f"features={list(features)}: choose from {list(FEATURE_NAMES)}")
    columns = [FEATURE_NAMES.index(f) for f in features]
    matrix = regime_features(panel)[:, columns]
    return RegimeFilter(cfg, **filter_options).run(matrix, getattr(panel, "dates", None))


def regime_limits(
    path: RegimePath, cfg: RegimeConfig, *, offset: int = 0
) -> Callable[[int], tuple[float, float]]:
    """The backtest's ``limits_provider``: row t → ``(gross, net)`` of the regime at row t + offset.

    ``offset`` aligns a path computed on a longer history with a backtest that iterates over a
    later slice (e.g. ``backtest.start`` set: ``offset`` = rows of the full panel before the
    slice), so the HMM keeps its warm-up history. With ``cfg.enabled`` False every row gets the
    Normal limits.
    """
    states = path.states

    def provider(t: int) -> tuple[float, float]:
        return limits_for(int(states[t + offset]) if cfg.enabled else NORMAL, cfg)

    return provider
