"""Walk-forward backtest: the loop, costs, and the result model."""

from engine.backtest.loop import run_backtest
from engine.backtest.result import BacktestResult

__all__ = ["BacktestResult", "run_backtest"]
