"""Statistics: performance summary, PSR (and DSR / CSCV-PBO in their own modules)."""

from engine.stats.performance import PerformanceStats, performance_summary
from engine.stats.psr import OnlinePSR, probabilistic_sharpe_ratio, psr_details

__all__ = [
    "OnlinePSR",
    "PerformanceStats",
    "performance_summary",
    "probabilistic_sharpe_ratio",
    "psr_details",
]
