from __future__ import annotations

import pytest

from engine.config import SignalsConfig, SyntheticMarketConfig
from engine.data.panel import MarketPanel
from engine.data.synthetic import SyntheticMarket
from engine.signals import SignalSet, compute_signals


@pytest.fixture(scope="session")
def small_market() -> SyntheticMarket:
    """Three years of the default universe: quick, enough history for every signal."""
    return SyntheticMarket(SyntheticMarketConfig(seed=42, years=3.0))


@pytest.fixture(scope="session")
def small_panel(small_market: SyntheticMarket) -> MarketPanel:
    return small_market.daily_panel()


@pytest.fixture(scope="session")
def big_market() -> SyntheticMarket:
    """Ten years × 100 assets: enough observations to measure ICs of a few hundredths."""
    return SyntheticMarket(SyntheticMarketConfig(seed=42, years=10.0, n_assets=100))


@pytest.fixture(scope="session")
def big_signals(big_market: SyntheticMarket) -> SignalSet:
    return compute_signals(big_market.daily_panel(), SignalsConfig())
