"""Choose the optimiser by name: ``qp`` (default), ``hrp`` or ``bl``."""

from __future__ import annotations

from engine.config import PortfolioConfig
from engine.portfolio.base import PortfolioOptimizer

OPTIMIZERS = ("qp", "hrp", "bl")


class UnknownOptimizer(ValueError):
    """An optimiser name that is not available; the message lists the valid ones."""


def make_optimizer(name: str, cfg: PortfolioConfig) -> PortfolioOptimizer:
    """A fresh optimiser for ``name`` configured from the ``portfolio`` section."""
    from engine.portfolio.qp import QPOptimizer

    def qp() -> QPOptimizer:
        return QPOptimizer(
            lambda_=cfg.lambda_init,
            turnover_penalty=cfg.turnover_penalty,
            on_failure=cfg.on_failure,
            solver=cfg.solver,
        )

    if name == "qp":
        return qp()
    if name == "hrp":
        from engine.portfolio.hrp import HRPOptimizer

        return HRPOptimizer(linkage=cfg.hrp_linkage, on_failure=cfg.on_failure)
    if name == "bl":
        from engine.portfolio.black_litterman import BlackLittermanOptimizer

        return BlackLittermanOptimizer(qp=qp(), tau=cfg.bl_tau, delta=cfg.bl_delta)
    raise UnknownOptimizer(f"optimizer {name!r} is not known; use one of {', '.join(OPTIMIZERS)}")
