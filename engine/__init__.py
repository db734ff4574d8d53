"""The trading engine: data, signals, portfolio, risk, statistics, backtest, broker, bus, planes."""
