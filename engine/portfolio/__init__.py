"""Portfolio construction: the optimiser protocol, covariance, QP (HRP and BL alongside)."""

from engine.portfolio.base import Allocation, Limits, PortfolioOptimizer

__all__ = ["Allocation", "Limits", "PortfolioOptimizer"]
