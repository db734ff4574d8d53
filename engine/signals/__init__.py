"""The six signals (OFI, ERN, VRP, POS, TSX, SIF) and :func:`compute_signals`.

Each signal module exposes ``compute(panel, cfg) -> SignalOutput | Dropped``: a pure,
vectorised function of the panel whose value at row ``t`` uses rows ``≤ t`` only, standardised
across symbols per date. A signal whose inputs are absent is dropped with a reason.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from engine.config import SignalsConfig
from engine.data.panel import MarketPanel
from engine.signals import ern, ofi, pos, sif, tsx, vrp
from engine.signals.base import Dropped, SignalOutput

SignalFn = Callable[[MarketPanel, SignalsConfig], "SignalOutput | Dropped"]

SIGNALS: Mapping[str, SignalFn] = {
    "OFI": ofi.compute,
    "ERN": ern.compute,
    "VRP": vrp.compute,
    "POS": pos.compute,
    "TSX": tsx.compute,
    "SIF": sif.compute,
}
"""Signal code → compute function, in the canonical order."""


@dataclass(frozen=True)
class SignalSet:
    """The computed signals of one panel.

    ``scores`` maps code → ``(T, N)`` standardised score (canonical order); ``dropped`` maps
    code → reason; ``warnings`` are human-readable notes (one per dropped signal and any
    degraded one); ``outputs`` keeps each signal's components.
    """

    scores: dict[str, np.ndarray]
    dropped: dict[str, str]
    warnings: tuple[str, ...]
    outputs: dict[str, SignalOutput] = field(default_factory=dict)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.scores)


def compute_signals(
    panel: MarketPanel,
    cfg: SignalsConfig,
    *,
    extra: Mapping[str, SignalFn] | None = None,
) -> SignalSet:
    """Compute every enabled signal on ``panel``.

    Parameters
    ----------
    panel : MarketPanel
    cfg : SignalsConfig
        Windows and ``enabled`` codes.
    extra : mapping, optional
        Additional signals (code → compute function) appended after the built-in ones, e.g. a
        user research signal; they are computed whatever ``enabled`` says.
    """
    scores: dict[str, np.ndarray] = {}
    dropped: dict[str, str] = {}
    warnings: list[str] = []
    outputs: dict[str, SignalOutput] = {}
    registry = {k: fn for k, fn in SIGNALS.items() if k in cfg.enabled}
    registry.update(extra or {})
    for code, fn in registry.items():
        result = fn(panel, cfg)
        if isinstance(result, Dropped):
            dropped[code] = result.reason
            warnings.append(f"signal {code} dropped: {result.reason}")
            continue
        scores[code] = result.score
        outputs[code] = result
        warnings.extend(result.warnings)
        if not np.isfinite(result.score).any():
            warnings.append(f"signal {code}: no value computable yet (history too short)")
    return SignalSet(scores=scores, dropped=dropped, warnings=tuple(warnings), outputs=outputs)


__all__ = ["SIGNALS", "Dropped", "SignalOutput", "SignalSet", "compute_signals"]
