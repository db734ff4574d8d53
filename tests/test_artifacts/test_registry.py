"""File name → model, detection by content, and the shared types agree with the contracts."""

from __future__ import annotations

import re
import typing
from pathlib import Path

from artifacts.models import base
from artifacts.models.account_config import AccountConfig
from artifacts.models.go_live_decision import GoLiveDecision
from artifacts.models.paper_trading_metrics import PaperTradingMetricsRow
from artifacts.registry import ARTIFACTS, model_for_content, model_for_file, spec_for_name


def test_registry_lists_every_spec_artifact() -> None:
    names = {spec.file_name for spec in ARTIFACTS}
    # SPEC §6-7 and the gates issue name these files
    assert {
        "ACCOUNT_CONFIG.json",
        "PAPER_TRADING_LOG.json",
        "PAPER_TRADING_METRICS.csv",
        "PRELIVE_VERIFICATION_LOG.json",
        "BACKTEST_REPORT.json",
        "ROLLBACK_REPORT.json",
        "IBKR_ARTIFACT_VALIDATION_REPORT.md",
        "IBKR_INTEGRATION_FLOW.md",
        "IBKR_INTERFACE_MAP.md",
        "IMPLEMENTATION_TEST_REPORT.json",
        "TEST_INVENTORY.json",
        "GO_LIVE_DECISION_GATE.md",
        "ROLLBACK_PROCEDURE.md",
        "GOVERNANCE_SIGNOFFS.json",
        "LATENCY_BASELINE.json",
    } <= names


def test_lookup_by_name_and_path() -> None:
    assert model_for_file(Path("prelive/ACCOUNT_CONFIG.json")) is AccountConfig
    assert model_for_file("x/GO_LIVE_DECISION_GATE.md") is GoLiveDecision
    assert model_for_file("PAPER_TRADING_METRICS.csv") is PaperTradingMetricsRow
    assert model_for_file("account_config.json") is None
    spec = spec_for_name("ACCOUNT_CONFIG.json")
    assert spec is not None and spec.format == "json" and spec.artifact_type == "account_config"


def test_detection_by_content() -> None:
    assert model_for_content({"artifact_type": "go_live_decision"}) is GoLiveDecision
    assert model_for_content({"artifact_type": "nope"}) is None
    assert model_for_content([1, 2]) is None
    assert model_for_content({"artifact_type": 3}) is None


def test_formats_match_file_extensions() -> None:
    ext = {"json": ".json", "markdown": ".md", "csv": ".csv"}
    for spec in ARTIFACTS:
        assert spec.file_name.endswith(ext[spec.format]), spec.file_name


def test_order_literals_are_the_contracts_literals() -> None:
    from contracts import messages

    assert typing.get_args(base.Direction) == typing.get_args(messages.Direction)
    assert typing.get_args(base.OrderStatus) == typing.get_args(messages.OrderStatus)
    assert typing.get_args(base.OrderType) == typing.get_args(messages.OrderType)


def test_mask_account_id() -> None:
    assert base.mask_account_id("DU1234567") == "DU****567"
    assert base.mask_account_id("U7654321") == "U****321"
    assert base.mask_account_id("DU12") == "DU***"  # too short to reveal anything
    pattern = re.compile(r"^[A-Za-z]{0,3}\*{3,}[A-Za-z0-9]{0,4}$")  # the schema's pattern
    for raw in ("DU1234567", "U1", "X", "DUX998877", "F12345678901"):
        masked = base.mask_account_id(raw)
        assert pattern.match(masked), masked
        assert raw not in masked or len(raw) == 1  # one letter is only the prefix
