"""One realistic, valid example of every artifact (and a few variants).

The positive corpus under ``tests/data/artifacts/positive/`` was written from these builders and is
checked in; ``test_corpus.py`` proves the files still equal what the builders produce, so a model
change that alters the serialised form shows up as a diff in the golden files.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from artifacts.models.account_config import AccountConfig, BrokerNotice
from artifacts.models.backtest_report import (
    BacktestPeriod,
    BacktestReport,
    BacktestStatistics,
    CostBreakdown,
    DroppedSignal,
    FailedSolve,
    GridRun,
    GridSection,
    QualitySummary,
    RegimeSummary,
    SignalSummary,
    SignalTimeSeries,
)
from artifacts.models.base import (
    ArtifactModel,
    ArtifactRef,
    ArtifactRow,
    Evidence,
    KillSwitchEventRecord,
)
from artifacts.models.gate_common import GateHeader
from artifacts.models.gate_reports import (
    ArtifactValidationReport,
    CoverageCheck,
    ErrorCodePolicy,
    FixtureCheck,
    FlowInput,
    FlowStage,
    ImplementationTestReport,
    IntegrationFlow,
    InterfaceMap,
    OperationMapping,
    SignoffStatus,
    StageTests,
    TestFailure,
    TestInventory,
)
from artifacts.models.go_live_decision import (
    CapitalStage,
    DrillEvidence,
    GateSummary,
    GoLiveDecision,
    SignoffCheck,
)
from artifacts.models.governance import BoundHashes, GovernanceSignoffs, SignOff
from artifacts.models.latency_baseline import LatencyBaseline
from artifacts.models.paper_trading_log import (
    BaselineRef,
    FillRecord,
    OrderRecord,
    PaperSessionMeta,
    PaperSessionSummary,
    PaperTradingLog,
    StatusChange,
    TradeRecord,
)
from artifacts.models.paper_trading_metrics import PaperTradingMetricsRow
from artifacts.models.prelive_verification_log import GateLogEntry, PreliveVerificationLog
from artifacts.models.rollback_procedure import ProcedureStep, RollbackProcedure
from artifacts.models.rollback_report import (
    CancelledOrder,
    ClosedPosition,
    RollbackFill,
    RollbackPnL,
    RollbackReport,
    RollbackStep,
)

T0 = datetime(2026, 11, 2, 14, 30, tzinfo=UTC)
VERSION = "0.1.0"
CONFIG = "a" * 64
STRATEGY = "b" * 64
HEADER = {"generated_at": T0, "tool_version": VERSION}


def ref(name: str, digit: str = "c", size: int = 1234) -> ArtifactRef:
    return ArtifactRef(name=name, path=name, sha256=digit * 64, bytes=size)


def _t(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def gate_header(number: int, name: str, *, passed: bool = True) -> GateHeader:
    return GateHeader(
        number=number,
        name=name,
        verdict="PASS" if passed else "FAIL",
        evidence=(
            Evidence(condition="inputs present", measured=True, threshold=True, passed=True),
            Evidence(
                condition="main condition",
                measured=1.0 if passed else 0.0,
                threshold=1.0,
                passed=passed,
                detail=None if passed else "fix the failing condition and rerun",
            ),
        ),
        config_hash=CONFIG,
    )


def account_config() -> AccountConfig:
    return AccountConfig(
        **HEADER,
        broker_kind="ib",
        host="127.0.0.1",
        port=4002,
        client_id=7,
        account_id_masked="DU****567",
        trading_mode="paper",
        mode_evidence=("account prefix DU", "port 4002 is the paper gateway port"),
        connected=True,
        server_version=176,
        currency="USD",
        net_liquidation=1_000_000.0,
        buying_power=4_000_000.0,
        cash=1_000_000.0,
        available_funds=1_000_000.0,
        permissions=("STK", "market data: delayed"),
        positions_count=0,
        open_orders_count=0,
        probed_at=T0,
        probe_seconds=0.84,
        notices=(BrokerNotice(code=2104, message="Market data farm connection is OK:usfarm"),),
    )


def account_config_unreachable() -> AccountConfig:
    return AccountConfig(
        **HEADER,
        broker_kind="ib",
        host="127.0.0.1",
        port=4002,
        trading_mode="unknown",
        connected=False,
        probed_at=T0,
        probe_seconds=10.0,
        failure="connection refused by 127.0.0.1:4002 (is IB Gateway running?)",
    )


def _trade(i: int) -> TradeRecord:
    intent = f"00000000-0000-4000-8000-{i:012d}"
    if i == 2:
        return TradeRecord(
            intent_id=intent,
            created_at=_t(60 * i),
            symbol="MSFT",
            direction="SELL",
            quantity=10,
            order_type="MARKET",
            risk_rejected="max order notional 250000 exceeded",
        )
    filled = 100
    return TradeRecord(
        intent_id=intent,
        created_at=_t(60 * i),
        symbol="AAPL",
        direction="BUY",
        quantity=100,
        order_type="LIMIT",
        limit_price=190.5,
        decision_price=190.2,
        order=OrderRecord(
            order_id=str(1000 + i),
            submitted_at=_t(60 * i + 0.001),
            acknowledged_at=_t(60 * i + 0.004),
            latency_ms=3.0,
            status_changes=(
                StatusChange(at=_t(60 * i + 0.004), status="ACKNOWLEDGED", filled_quantity=0),
                StatusChange(at=_t(60 * i + 0.5), status="PARTIAL_FILL", filled_quantity=40),
                StatusChange(at=_t(60 * i + 1.0), status="FILLED", filled_quantity=filled),
            ),
            fills=(
                FillRecord(exec_id=f"e{i}.1", at=_t(60 * i + 0.5), quantity=40, price=190.25),
                FillRecord(
                    exec_id=f"e{i}.2", at=_t(60 * i + 1.0), quantity=60, price=190.3, commission=0.5
                ),
            ),
            final_status="FILLED",
            filled_quantity=filled,
            avg_fill_price=190.28,
            slippage_bps=4.2,
            commission=0.5,
        ),
    )


def paper_trading_log() -> PaperTradingLog:
    trades = tuple(_trade(i) for i in range(3))
    return PaperTradingLog(
        **HEADER,
        session=PaperSessionMeta(
            session_id="paper-20261102-1430",
            broker_kind="sim",
            started_at=T0,
            finished_at=_t(6 * 3600),
            duration_seconds=6 * 3600,
            wall_seconds=61.5,
            clock_speed=360.0,
            bar_seconds=60,
            seed=7,
            symbols=("AAPL", "MSFT"),
            config_hash=CONFIG,
            strategy_hash=STRATEGY,
        ),
        trades=trades,
        summary=PaperSessionSummary(
            intents=3,
            orders_submitted=2,
            orders_filled=2,
            risk_rejections=1,
            trades=2,
            fills=4,
            fill_rate=1.0,
            latency_p50_ms=3.0,
            latency_p95_ms=3.0,
            latency_p99_ms=3.0,
            baseline=BaselineRef(
                p50_ms=2.5, p95_ms=2.8, p99_ms=3.5, source=ref("LATENCY_BASELINE.json", "d")
            ),
            latency_delta=0.0714,
            pacing_violations=0,
            pnl=123.45,
            max_drawdown=0.002,
            commissions=1.0,
            sharpe_paper=1.1,
            sharpe_backtest=1.4,
            backtest_report=ref("BACKTEST_REPORT.json", "e"),
            dlq_counts={"dlq_market_events": 2},
            kill_switch_events=(
                KillSwitchEventRecord(
                    at=_t(3600),
                    kind="pnl",
                    level="warning",
                    action="NONE",
                    value=-0.031,
                    threshold=-0.03,
                    latched=False,
                    message="P&L below the warning level",
                ),
            ),
        ),
        metrics_file=ref("PAPER_TRADING_METRICS.csv", "f"),
        logs_dir="logs",
    )


def metrics_rows() -> list[PaperTradingMetricsRow]:
    return [
        PaperTradingMetricsRow(
            timestamp=_t(600 * i),
            pnl=10.0 * i,
            pnl_fraction=0.00001 * i,
            drawdown=0.001 * (i % 2),
            psr=None if i < 2 else 0.55,
            orders=2 * i,
            fills=2 * i,
            fill_rate=None if i == 0 else 1.0,
            latency_p50_ms=None if i == 0 else 3.0,
            latency_p95_ms=None if i == 0 else 4.0,
            latency_p99_ms=None if i == 0 else 5.5,
            pacing_violations=0,
            gross_exposure=0.5,
            kill_switch_state="OK",
        )
        for i in range(4)
    ]


def latency_baseline() -> LatencyBaseline:
    return LatencyBaseline(
        **HEADER,
        broker_kind="sim",
        samples=1000,
        p50_ms=2.5,
        p95_ms=2.8,
        p99_ms=3.5,
        mean_ms=2.6,
        max_ms=7.0,
        measured_from=T0,
        measured_to=_t(30),
        seed=7,
        config_hash=CONFIG,
    )


def _log_entry(gate: int, name: str, artifact: str) -> GateLogEntry:
    return GateLogEntry(
        run_id="run-1",
        gate=gate,
        name=name,
        verdict="PASS",
        evidence=(Evidence(condition="condition", measured=1, threshold=1, passed=True),),
        thresholds={"coverage_min": 0.8} if gate == 1 else {},
        artifacts=(ref(artifact, "1"),),
        started_at=_t(gate),
        finished_at=_t(gate + 0.5),
        duration_seconds=0.5,
        tool_version=VERSION,
        config_hash=CONFIG,
    )


def prelive_verification_log() -> PreliveVerificationLog:
    entries = (
        _log_entry(1, "Artifact validation", "IBKR_ARTIFACT_VALIDATION_REPORT.md"),
        _log_entry(6, "Account probe", "ACCOUNT_CONFIG.json"),
        GateLogEntry(
            run_id="run-1",
            gate=7,
            name="Paper trading",
            verdict="FAIL",
            evidence=(
                Evidence(condition="fill_rate > 0.98", measured=0.97, threshold=0.98, passed=False),
                Evidence(condition="pacing_violations == 0", measured=0, threshold=0, passed=True),
            ),
            thresholds={"fill_rate_min": 0.98, "pacing_violations_max": 0},
            started_at=_t(10),
            finished_at=_t(70),
            duration_seconds=60.0,
            tool_version=VERSION,
            config_hash=CONFIG,
            message="fill rate 97% is not above 98%: check rejects in PAPER_TRADING_LOG.json",
        ),
    )
    return PreliveVerificationLog(**HEADER, config_hash=CONFIG, entries=entries)


def backtest_report() -> BacktestReport:
    return BacktestReport(
        **HEADER,
        config_hash=CONFIG,
        data_fingerprint="9" * 64,
        data_source="synthetic",
        seed=42,
        period=BacktestPeriod(
            start=date(2016, 1, 4), end=date(2025, 12, 31), trading_days=2520, rebalances=520
        ),
        universe=("AAPL", "MSFT", "XOM"),
        rebalance="weekly",
        execution="next_open",
        optimizer="qp",
        initial_capital=1_000_000.0,
        statistics=BacktestStatistics(
            total_return=0.85,
            cagr=0.064,
            annual_volatility=0.08,
            sharpe=0.82,
            sortino=1.2,
            max_drawdown=0.11,
            max_drawdown_duration_days=140,
            calmar=0.58,
            turnover=6.5,
            hit_rate=0.53,
            psr=0.99,
            dsr=0.9,
            pbo=0.2,
            periods=2519,
            periods_per_year=252,
            final_equity=1_850_000.0,
            average_gross_exposure=1.4,
            average_net_exposure=0.02,
        ),
        signals=(
            SignalSummary(
                name="tsx",
                mean_ic=0.031,
                ic_tstat=4.2,
                mean_weight=0.6,
                final_weight=0.55,
                observations=2400,
            ),
            SignalSummary(
                name="vrp",
                mean_ic=-0.002,
                ic_tstat=-0.3,
                mean_weight=0.0,
                final_weight=0.0,
                observations=2400,
            ),
        ),
        signal_timeseries=SignalTimeSeries(
            dates=(date(2020, 1, 3), date(2020, 1, 10)),
            names=("tsx", "vrp"),
            ics=((0.03, None), (0.02, -0.01)),
            weights=((1.0, 0.0), (1.0, 0.0)),
        ),
        dropped_signals=(DroppedSignal(name="ern", reason="no eps_actual column in the data"),),
        kill_switch_events=(),
        failed_solves=(
            FailedSolve(
                rebalance_date=date(2020, 3, 16),
                status="infeasible",
                fallback="keep_previous",
                message="vol target below the minimum achievable volatility",
            ),
        ),
        costs=CostBreakdown(
            commission=1200.0,
            spread=3400.0,
            impact=2100.0,
            total=6700.0,
            fraction_of_capital=0.0067,
            traded_notional=65_000_000.0,
        ),
        quality=QualitySummary(symbol_days_untradable=12),
        regime=RegimeSummary(
            states=("calm", "normal", "storm"),
            days_in_state={"calm": 1000, "normal": 1200, "storm": 320},
            transitions=40,
            accuracy_vs_truth=0.81,
        ),
        grid=GridSection(
            parameters=("lambda",),
            runs=(
                GridRun(parameters={"lambda": 0.001}, sharpe=0.82),
                GridRun(parameters={"lambda": 0.01}, sharpe=0.7),
            ),
            selected=0,
            pbo=0.2,
            cscv_partitions=16,
        ),
        lookahead_checked=True,
        outputs=(ref("equity.png", "2"), ref("daily.csv", "3")),
        runtime_seconds=12.5,
    )


def rollback_report(*, flat: bool = True) -> RollbackReport:
    steps = tuple(
        RollbackStep(
            name=name,
            started_at=_t(i),
            finished_at=_t(i + 1),
            seconds=1.0,
            ok=flat or name != "verify",
            messages_sent=2 if name in ("cancel", "flatten") else 0,
        )
        for i, name in enumerate(("cancel", "detach", "flatten", "verify"))
    )
    return RollbackReport(
        **HEADER,
        broker_kind="sim",
        account_id_masked="DU****567",
        trading_mode="paper",
        trigger="drill",
        reason="gate 8 rollback drill",
        started_at=T0,
        finished_at=_t(4),
        total_seconds=4.0,
        target_seconds=120.0,
        within_target=True,
        steps=steps,
        orders_cancelled=(
            CancelledOrder(order_id="11", symbol="AAPL", remaining_quantity=50, confirmed=True),
            CancelledOrder(order_id="12", symbol="MSFT", remaining_quantity=10, confirmed=True),
        ),
        positions_closed=(
            ClosedPosition(
                symbol="AAPL",
                quantity_before=100,
                quantity_after=0 if flat else 100,
                order_id="13",
                avg_fill_price=190.0,
                realised_pnl=-12.0,
            ),
        ),
        fills=(
            RollbackFill(
                exec_id="x1",
                order_id="13",
                symbol="AAPL",
                direction="SELL",
                quantity=100,
                price=190.0,
                commission=0.5,
                at=_t(2.5),
            ),
        ),
        pnl=RollbackPnL(
            net_liquidation_before=1_000_000.0,
            net_liquidation_after=999_987.5,
            realised=-12.0,
            commissions=0.5,
        ),
        remaining_open_orders=0,
        remaining_positions=0 if flat else 1,
        verdict="FLAT" if flat else "NOT_FLAT",
        halt_flag_path=".algotrade/HALT",
        logs_dir="logs",
        dlq_paths=("prelive/dlq_order_intents.ndjson",),
        next_steps=("investigate the logs", "write the incident report", "fix and re-run gates"),
    )


def artifact_validation_report() -> ArtifactValidationReport:
    return ArtifactValidationReport(
        **HEADER,
        gate=gate_header(1, "Artifact validation"),
        coverage=CoverageCheck(
            measured=0.87, threshold=0.8, source="coverage.json", source_sha256="4" * 64
        ),
        signoffs=(
            SignoffStatus(role="risk_officer", name="R. Officer", signed_at=T0, valid=True),
            SignoffStatus(role="cto", name="C. T. O.", signed_at=T0, valid=True),
        ),
        fixtures=(
            FixtureCheck(
                path="data/assets.csv",
                schema_name="assets.schema.json",
                valid=True,
                sha256="5" * 64,
            ),
        ),
    )


def integration_flow() -> IntegrationFlow:
    return IntegrationFlow(
        **HEADER,
        gate=gate_header(2, "Hierarchical breakdown"),
        stages=(
            FlowStage(
                number=6,
                name="Account probe",
                passes_when="connected and buying_power > 0",
                inputs=(FlowInput(name="config", supplied=True),),
                outputs=("ACCOUNT_CONFIG.json",),
            ),
            FlowStage(
                number=7,
                name="Paper trading",
                passes_when="latency_delta < 0.5 and ...",
                inputs=(
                    FlowInput(name="ACCOUNT_CONFIG.json", produced_by=6),
                    FlowInput(name="BACKTEST_REPORT.json", supplied=True),
                ),
                outputs=("PAPER_TRADING_LOG.json", "PAPER_TRADING_METRICS.csv"),
                thresholds={"fill_rate_min": 0.98},
            ),
        ),
    )


def interface_map() -> InterfaceMap:
    return InterfaceMap(
        **HEADER,
        gate=gate_header(3, "Interface mapping"),
        operations=(
            OperationMapping(
                operation="placeOrder",
                protocol_method="place",
                adapter_method="IBBroker.place",
                ib_async_call="IB.placeOrder",
                implemented=True,
            ),
            OperationMapping(
                operation="cancelOrder",
                protocol_method="cancel",
                adapter_method="IBBroker.cancel",
                ib_async_call="IB.cancelOrder",
                implemented=True,
                notes="pipe | in a note",
            ),
        ),
        error_codes=(
            ErrorCodePolicy(
                code=1100,
                category="connectivity",
                outcome="ConnectivityLost",
                policy="pause the order plane until 1101/1102",
                cancels_order=False,
            ),
            ErrorCodePolicy(
                code=201,
                category="reject",
                outcome="OrderRejected",
                policy="mark the order REJECTED with the reason",
                cancels_order=True,
            ),
        ),
    )


def implementation_test_report() -> ImplementationTestReport:
    return ImplementationTestReport(
        **HEADER,
        gate=gate_header(4, "Implementation"),
        command=("python", "-m", "pytest", "-m", "broker", "-q"),
        markers="broker",
        exit_code=0,
        passed=120,
        failed=0,
        skipped=2,
        duration_seconds=14.2,
        required_modules=("engine.broker.ib", "engine.broker.simulated"),
    )


def implementation_test_report_failed() -> ImplementationTestReport:
    return ImplementationTestReport(
        **HEADER,
        gate=gate_header(4, "Implementation", passed=False),
        command=("python", "-m", "pytest", "-m", "broker", "-q"),
        markers="broker",
        exit_code=1,
        passed=119,
        failed=1,
        duration_seconds=14.9,
        failures=(TestFailure(nodeid="tests/x.py::test_cancel", message="assert 1 == 0"),),
    )


def test_inventory() -> TestInventory:
    return TestInventory(
        **HEADER,
        gate=gate_header(5, "Test infrastructure"),
        collect_command=("python", "-m", "pytest", "--collect-only", "-q", "-m", "stage6"),
        collect_exit_code=0,
        stages=tuple(
            StageTests(
                stage=s,
                marker=f"stage{s}",
                files=(f"tests/stage{s}_x.py",),
                test_ids=(f"tests/stage{s}_x.py::test_a",),
                exists=True,
                runnable=True,
            )
            for s in (6, 7, 8)
        ),
        total_collected=900,
    )


def _drills(passed: bool = True) -> tuple[DrillEvidence, DrillEvidence]:
    return (
        DrillEvidence(
            kind="rollback",
            ran=True,
            passed=passed,
            started_at=T0,
            seconds=4.0,
            target_seconds=120.0,
            observations=("flat after 4.0 s",),
            report=ref("ROLLBACK_REPORT.json", "6"),
        ),
        DrillEvidence(
            kind="kill_switch",
            ran=True,
            passed=True,
            seconds=2.0,
            observations=("HALT_AND_FLATTEN", "latched after restart"),
        ),
    )


def go_live_decision(*, go: bool = True) -> GoLiveDecision:
    rollback, kill = _drills(passed=go)
    gates = tuple(
        GateSummary(
            number=n,
            name=f"gate {n}",
            verdict="PASS",
            artifacts=(ref(f"A{n}.json", "7"),),
            unchanged=True,
        )
        for n in range(1, 8)
    )
    roles = ("risk_officer", "cto", "lead_trader")
    return GoLiveDecision(
        **HEADER,
        decision="GO" if go else "NO-GO",
        reasons=("all gates passed; drills passed; signed by every required role",)
        if go
        else ("rollback drill did not end flat (1 position left)",),
        gate=gate_header(8, "Go-live decision", passed=go),
        gates=gates,
        rollback_drill=rollback,
        kill_switch_drill=kill,
        signoffs=tuple(
            SignoffCheck(role=r, name=r.title(), signed_at=T0, valid=True) for r in roles
        ),
        capital_stage=CapitalStage(
            name="pilot", capital_fraction=0.1, capital=10_000.0, max_position=2_500.0, weeks=1
        )
        if go
        else None,
        config_hash=CONFIG,
        strategy_hash=STRATEGY,
        verification_log=ref("PRELIVE_VERIFICATION_LOG.json", "8"),
    )


def rollback_procedure() -> RollbackProcedure:
    return RollbackProcedure(
        **HEADER,
        steps=(
            ProcedureStep(
                number=1,
                name="STOP",
                command="algotrade cancel-all --yes",
                purpose="Cancel every open order.",
                done_when="the broker reports no open orders",
                timeout_seconds=30,
            ),
            ProcedureStep(
                number=2,
                name="DISCONNECT",
                command="algotrade rollback --detach-only",
                purpose="Persist the HALT flag so no strategy sends new intents.",
                done_when="the HALT flag exists",
            ),
            ProcedureStep(
                number=3,
                name="FLATTEN",
                command="algotrade flatten --yes",
                purpose="Close every position with market orders.",
                done_when="fills for every position",
            ),
            ProcedureStep(
                number=4,
                name="VERIFY",
                purpose="Read back orders, positions and P&L.",
                done_when="zero open orders and zero positions",
            ),
        ),
        one_command="algotrade rollback --yes",
        target_seconds=120,
        last_drill_seconds=4.0,
        drill_report=ref("ROLLBACK_REPORT.json", "6"),
        logs_dir="logs",
        dlq_location="prelive/",
    )


def governance_signoffs() -> GovernanceSignoffs:
    bound = BoundHashes(
        config_hash=CONFIG, strategy_hash=STRATEGY, artifacts=(ref("ACCOUNT_CONFIG.json", "9"),)
    )
    return GovernanceSignoffs(
        **HEADER,
        signoffs=(
            SignOff(role="risk_officer", name="R. Officer", signed_at=T0, bound=bound),
            SignOff(
                role="cto",
                name="C. T. O.",
                signed_at=_t(1),
                statement="reviewed",
                bound=bound,
                revoked_at=_t(2),
            ),
            SignOff(role="cto", name="C. T. O.", signed_at=_t(3), bound=bound),
        ),
    )


# case name -> builder; every registered artifact appears at least once in "default".
POSITIVE: dict[str, dict[str, Callable[[], ArtifactModel]]] = {
    "default": {
        "ACCOUNT_CONFIG.json": account_config,
        "PAPER_TRADING_LOG.json": paper_trading_log,
        "LATENCY_BASELINE.json": latency_baseline,
        "PRELIVE_VERIFICATION_LOG.json": prelive_verification_log,
        "BACKTEST_REPORT.json": backtest_report,
        "ROLLBACK_REPORT.json": rollback_report,
        "IBKR_ARTIFACT_VALIDATION_REPORT.md": artifact_validation_report,
        "IBKR_INTEGRATION_FLOW.md": integration_flow,
        "IBKR_INTERFACE_MAP.md": interface_map,
        "IMPLEMENTATION_TEST_REPORT.json": implementation_test_report,
        "TEST_INVENTORY.json": test_inventory,
        "GO_LIVE_DECISION_GATE.md": go_live_decision,
        "ROLLBACK_PROCEDURE.md": rollback_procedure,
        "GOVERNANCE_SIGNOFFS.json": governance_signoffs,
    },
    "failing": {
        "ACCOUNT_CONFIG.json": account_config_unreachable,
        "ROLLBACK_REPORT.json": lambda: rollback_report(flat=False),
        "GO_LIVE_DECISION_GATE.md": lambda: go_live_decision(go=False),
        "IMPLEMENTATION_TEST_REPORT.json": implementation_test_report_failed,
    },
}

POSITIVE_ROWS: dict[str, dict[str, Callable[[], list[PaperTradingMetricsRow]]]] = {
    "default": {"PAPER_TRADING_METRICS.csv": metrics_rows},
}

ROW_TYPES: dict[str, type[ArtifactRow]] = {"PAPER_TRADING_METRICS.csv": PaperTradingMetricsRow}


def write_positive_corpus(base: Path) -> list[Path]:
    """(Re)write the positive corpus: ``python -m tests.test_artifacts.examples``."""
    from artifacts.io import write_artifact, write_csv_artifact

    written = []
    for case, builders in POSITIVE.items():
        for name, build in builders.items():
            written.append(write_artifact(base / case / name, build()).path)
    for case, row_builders in POSITIVE_ROWS.items():
        for name, build_rows in row_builders.items():
            written.append(write_csv_artifact(base / case / name, build_rows()).path)
    return written


if __name__ == "__main__":
    target = Path(__file__).resolve().parents[1] / "data" / "artifacts" / "positive"
    for path in write_positive_corpus(target):
        print(path)
