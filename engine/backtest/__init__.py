"""engine/backtest."""
