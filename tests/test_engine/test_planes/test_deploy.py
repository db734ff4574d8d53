"""deploy/: the alert rules use the seed's kill-switch levels and metrics that exist; promtool agrees."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from engine.bus.metrics import BusMetrics
from engine.config import KillSwitchConfig
from engine.planes.metrics import SessionMetrics

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"
ALERTS = DEPLOY / "prometheus" / "alerts.yml"
DASHBOARD = DEPLOY / "grafana" / "dashboard.json"


def _rules() -> dict[str, dict[str, object]]:
    doc = yaml.safe_load(ALERTS.read_text())
    return {rule["alert"]: rule for group in doc["groups"] for rule in group["rules"]}


def _exported_names() -> set[str]:
    m = SessionMetrics()
    bus = BusMetrics()
    for counter in (bus.published, bus.consumed, bus.dlq, bus.dropped):
        counter["market_events"] += 1
    m.attach_bus(bus)
    m.intent_to_ack_latency.observe(0.01)
    names = {"up"}  # Prometheus's own scrape metric
    for family in text_string_to_metric_families(m.render().decode()):
        names.update(s.name for s in family.samples)
    return names


@pytest.mark.unit
def test_alert_levels_are_the_kill_switch_defaults() -> None:
    ks = KillSwitchConfig()
    rules = _rules()
    expected = {
        "AlgotradePnlWarning": f"pnl_current < {ks.pnl_warn}",
        "AlgotradePnlCritical": f"pnl_current < {ks.pnl_halt}",
        "AlgotradeDrawdownWarning": f"drawdown_current > {ks.drawdown_warn:.2f}",
        "AlgotradeDrawdownCritical": f"drawdown_current > {ks.drawdown_halt:.2f}",
        "AlgotradePsrWarning": f"psr_current < {ks.psr_warn:.2f}",
        "AlgotradePsrCritical": f"psr_current < {ks.psr_halt:.2f}",
    }
    assert {name: rules[name]["expr"] for name in expected} == expected
    assert {rules[n]["labels"]["severity"] for n in expected if n.endswith("Critical")} == {  # type: ignore[index]
        "critical"
    }


@pytest.mark.unit
def test_rules_and_dashboard_only_use_exported_metrics() -> None:
    exported = _exported_names()
    ident = re.compile(r"\b[a-z_][a-z0-9_]*\b")
    functions = {"rate", "increase", "sum", "histogram_quantile"}
    exprs = [str(rule["expr"]) for rule in _rules().values()]
    dashboard = json.loads(DASHBOARD.read_text())
    exprs += [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    bare = [re.sub(r"by\s*\([^)]*\)", "", re.sub(r"\{[^}]*\}|\[[^\]]*\]", "", e)) for e in exprs]
    used = {name for e in bare for name in ident.findall(e)} - functions
    assert used, "no metric names found"
    assert used <= exported, f"not exported: {sorted(used - exported)}"


@pytest.mark.unit
def test_dashboard_is_well_formed() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids)) and dashboard["uid"] == "algotrade-session"
    titles = " ".join(p["title"] for p in dashboard["panels"])
    for word in ("P&L", "Drawdown", "Sharpe", "Kill switches", "latency", "Dead-lettered"):
        assert word in titles


@pytest.mark.integration
@pytest.mark.skipif(
    shutil.which("promtool") is None and not os.environ.get("CI"),
    reason="promtool not installed (Debian: prometheus); CI installs it and never skips",
)
def test_promtool_checks_the_config_and_unit_tests_the_rules() -> None:
    check = subprocess.run(
        ["promtool", "check", "rules", str(ALERTS)], capture_output=True, text=True, timeout=60
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert "SUCCESS" in check.stdout
    config = subprocess.run(
        ["promtool", "check", "config", str(DEPLOY / "prometheus" / "prometheus.yml")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert config.returncode == 0, config.stdout + config.stderr
    unit = subprocess.run(
        ["promtool", "test", "rules", str(DEPLOY / "prometheus" / "alerts_test.yml")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert unit.returncode == 0, unit.stdout + unit.stderr
