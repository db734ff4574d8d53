"""Online cost learning: the EWMA converges to the realised slippage; the penalty is λ·10⁴·cost."""

from __future__ import annotations

import pytest

from engine.planes.costs import CostLearner

pytestmark = pytest.mark.unit


def test_converges_to_the_realised_slippage() -> None:
    learner = CostLearner(prior=0.0002, lambda_=5e-4, alpha=0.1)
    for _ in range(200):  # buys 5 bps above, sells 5 bps below the decision price
        learner.observe("BUY", 100.05, 100.0)
        learner.observe("SELL", 99.95, 100.0)
    assert learner.cost_fraction == pytest.approx(0.0005, rel=1e-6)
    assert learner.turnover_penalty == pytest.approx(5e-4 * 1e4 * 0.0005)
    assert learner.fills == 400


def test_price_improvement_lowers_the_estimate_but_never_below_zero() -> None:
    learner = CostLearner(prior=0.0001, lambda_=5e-4, alpha=0.5)
    for _ in range(20):
        learner.observe("BUY", 99.9, 100.0)
    assert learner.estimate < 0
    assert learner.cost_fraction == 0.0 and learner.turnover_penalty == 0.0


def test_unmeasurable_fills_are_ignored() -> None:
    learner = CostLearner(prior=0.0002, lambda_=5e-4)
    assert learner.observe("BUY", 100.0, None) is None
    assert learner.fills == 0 and learner.cost_fraction == 0.0002
    with pytest.raises(ValueError, match="alpha"):
        CostLearner(prior=0.0, lambda_=1.0, alpha=0.0)
