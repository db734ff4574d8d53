"""Typed, frozen configuration for every tunable the product has.

Precedence, lowest to highest: the built-in defaults (the seed's values), an optional YAML file,
then ``ALGOTRADE_*`` environment variables. Nested keys use a double underscore in the
environment: ``ALGOTRADE_BROKER__PORT=4001`` sets ``broker.port``; values are parsed as YAML
scalars (``true``, ``4001``, ``0.1``). A few well-known shortcuts are accepted too
(``ALGOTRADE_IB_HOST``, ``ALGOTRADE_IB_PORT``, ``ALGOTRADE_IB_CLIENT_ID``, ``ALGOTRADE_IB_ACCOUNT``).

A bad file never yields a half-valid config: :class:`ConfigError` names the YAML path of every
bad key, the value found and what was expected.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator

CONFIG_SCHEMA_VERSION = "1"

Rebalance = Literal["daily", "weekly", "monthly"]
Optimizer = Literal["qp", "hrp", "bl"]


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)


class SignalsConfig(_Section):
    """Look-back windows of the six signals and of the IC-weighted ensemble (trading days)."""

    ofi_window: int = Field(
        5, ge=1, title="OFI window", description="Days of bid/ask volume summed."
    )
    ern_window: int = Field(
        63, ge=1, title="ERN window", description="Days an earnings surprise stays informative."
    )
    vrp_realized_window: int = Field(
        21, ge=2, title="VRP realised-vol window", description="Days of returns for realised vol."
    )
    pos_window: int = Field(
        21, ge=1, title="POS change window", description="Days over which positioning changes."
    )
    tsx_momentum_window: int = Field(
        126, ge=2, title="Momentum window", description="Days of momentum look-back."
    )
    tsx_momentum_skip: int = Field(
        5, ge=0, title="Momentum skip", description="Most recent days skipped by momentum."
    )
    tsx_reversal_window: int = Field(
        5, ge=1, title="Mean-reversion window", description="Days of short-term reversal."
    )
    tsx_trend_fast: int = Field(20, ge=2, title="Trend fast MA", description="Fast moving average.")
    tsx_trend_slow: int = Field(
        100, ge=3, title="Trend slow MA", description="Slow moving average."
    )
    sif_window: int = Field(
        5, ge=1, title="SIF smoothing window", description="Days of sentiment smoothing."
    )
    sif_revision_window: int = Field(
        21, ge=1, title="SIF revision window", description="Days of analyst-estimate revisions."
    )
    ic_window: int = Field(
        63, ge=5, title="IC window", description="Rolling window of the rank IC (decision dates)."
    )
    ic_min_periods: int = Field(
        20, ge=3, title="IC minimum periods", description="Observations before an IC is trusted."
    )
    ic_horizon: int = Field(
        1, ge=1, title="IC horizon", description="Forward return horizon of the IC (bars)."
    )
    enabled: tuple[str, ...] = Field(
        ("OFI", "ERN", "VRP", "POS", "TSX", "SIF"),
        title="Enabled signals",
        description="Signal codes to compute; absent inputs still drop a signal.",
    )

    @model_validator(mode="after")
    def _check(self) -> SignalsConfig:
        if self.tsx_trend_fast >= self.tsx_trend_slow:
            raise ValueError("tsx_trend_fast must be shorter than tsx_trend_slow")
        unknown = set(self.enabled) - {"OFI", "ERN", "VRP", "POS", "TSX", "SIF"}
        if unknown:
            raise ValueError(f"unknown signal codes {sorted(unknown)}; use OFI ERN VRP POS TSX SIF")
        return self


class PortfolioConfig(_Section):
    """Optimiser settings (SPEC §2.3): ``min ½wᵀΣw − λμᵀw`` under box, gross, net and vol limits."""

    optimizer: Optimizer = Field("qp", title="Optimiser", description="qp, hrp or bl.")
    lambda_init: float = Field(
        5e-4,
        gt=0,
        title="λ (LAMBDA_INIT)",
        description="Risk-aversion trade-off on expected return.",
    )
    vol_target: float = Field(
        0.10, gt=0, le=2.0, title="Volatility target", description="Annualised volatility cap."
    )
    box_lim: float = Field(0.25, gt=0, le=1.0, title="Box limit", description="Max |weight|.")
    gross_lim: float = Field(2.0, gt=0, le=10.0, title="Gross limit", description="Max Σ|w|.")
    net_lim: float = Field(0.8, ge=0, le=10.0, title="Net limit", description="Max |Σw|.")
    turnover_penalty: float = Field(
        0.0015,
        ge=0,
        title="Turnover penalty",
        description=(
            "κ, cost per unit of one-way turnover Σ|w − w_prev| in the QP's objective units "
            "(λ per basis point of expected return): 0.0015 = λ × 3 bp, about the default "
            "commission plus half-spread. 0 turns the term off."
        ),
    )
    cov_window: int = Field(
        126, ge=10, title="Covariance window", description="Days of returns for Ledoit–Wolf."
    )
    on_failure: Literal["keep", "flat"] = Field(
        "keep", title="On failed solve", description="Keep previous weights or go flat."
    )
    solver: str | None = Field(None, title="Solver", description="cvxpy solver name; None = auto.")
    bl_tau: float = Field(0.05, gt=0, title="BL τ", description="Black–Litterman prior scaling.")
    bl_delta: float = Field(2.5, gt=0, title="BL δ", description="Risk-aversion of the BL prior.")
    hrp_linkage: Literal["paper", "library"] = Field(
        "paper",
        title="HRP linkage convention",
        description="paper: distance-of-distances; library: linkage on the condensed distance.",
    )


class RegimeLimits(_Section):
    gross: float = Field(gt=0, title="Gross limit", description="Max Σ|w| in this regime.")
    net: float = Field(ge=0, title="Net limit", description="Max |Σw| in this regime.")


class RegimeConfig(_Section):
    """Three-state regime model (SPEC §2.4) and the limits each regime sets."""

    enabled: bool = Field(True, title="Enabled", description="Apply regime limits.")
    calm: RegimeLimits = RegimeLimits(gross=2.5, net=1.0)
    normal: RegimeLimits = RegimeLimits(gross=2.0, net=0.8)
    storm: RegimeLimits = RegimeLimits(gross=1.0, net=0.4)
    window: int = Field(
        504, ge=60, title="Fit window", description="Days of features the HMM is fitted on."
    )
    refit_every: int = Field(21, ge=1, title="Refit every", description="Days between EM refits.")
    expanding: bool = Field(
        False,
        title="Expanding window",
        description="Refit on all history (true) or on the last `window` days (false, the default: bounded cost, adapts).",
    )


class KillSwitchConfig(_Section):
    """Kill switches (SPEC §2.4): trigger levels and warning levels."""

    pnl_halt: float = Field(-0.05, lt=0, title="PnL halt", description="HALT_AND_FLATTEN below.")
    pnl_warn: float = Field(-0.03, lt=0, title="PnL warning", description="Warn below.")
    drawdown_halt: float = Field(
        0.15, gt=0, lt=1, title="Drawdown halt", description="HALT_AND_FLATTEN above."
    )
    drawdown_warn: float = Field(0.10, gt=0, lt=1, title="Drawdown warning", description="Warn.")
    psr_halt: float = Field(
        0.20, ge=0, le=1, title="PSR halt", description="HALT_AND_INVESTIGATE below."
    )
    psr_warn: float = Field(0.30, ge=0, le=1, title="PSR warning", description="Warn below.")
    psr_min_obs: int = Field(
        60, ge=10, title="PSR minimum sample", description="Returns before the PSR switch is armed."
    )
    pnl_window: Literal["session", "day", "total"] = Field(
        "total",
        title="PnL reference",
        description="What the PnL switch measures: since session start, day or inception.",
    )

    @model_validator(mode="after")
    def _order(self) -> KillSwitchConfig:
        if self.pnl_warn <= self.pnl_halt:
            raise ValueError("pnl_warn must be above pnl_halt (a warning comes first)")
        if self.drawdown_warn >= self.drawdown_halt:
            raise ValueError("drawdown_warn must be below drawdown_halt")
        if self.psr_warn <= self.psr_halt:
            raise ValueError("psr_warn must be above psr_halt")
        return self


class CostsConfig(_Section):
    """IBKR-like costs: per-share commission with minimum and cap, half-spread, √ impact."""

    commission_per_share: float = Field(0.005, ge=0, title="Commission/share", description="USD.")
    commission_min: float = Field(1.0, ge=0, title="Minimum commission", description="USD/order.")
    commission_max_pct: float = Field(
        0.01, ge=0, title="Commission cap", description="Max commission as a share of notional."
    )
    half_spread_bps: float = Field(2.0, ge=0, title="Half spread", description="Basis points.")
    impact_coef: float = Field(
        0.1,
        ge=0,
        title="Impact coefficient",
        description="Impact = coef × daily vol × √(shares / ADV), as a fraction of price.",
    )


class BacktestConfig(_Section):
    start: str | None = Field(None, title="Start date", description="ISO date; None = first.")
    end: str | None = Field(None, title="End date", description="ISO date; None = last.")
    rebalance: Rebalance = Field("weekly", title="Rebalance", description="Decision frequency.")
    execution: Literal["next_open", "next_close"] = Field(
        "next_open", title="Execution", description="Fill at next bar's open or close."
    )
    initial_capital: float = Field(1_000_000.0, gt=0, title="Initial capital", description="USD.")
    warmup_days: int = Field(
        130, ge=0, title="Warm-up", description="Days of history before the first decision."
    )
    periods_per_year: int = Field(252, ge=1, title="Periods/year", description="Annualisation.")


class SyntheticMarketConfig(_Section):
    """The embedded synthetic market (the default data source)."""

    seed: int = Field(42, ge=0, title="Seed", description="Same seed, same data, byte for byte.")
    years: float = Field(6.0, gt=0, le=50, title="Years", description="Years of daily bars.")
    n_assets: int | None = Field(
        None, ge=2, title="Universe size", description="None = every symbol of data/assets.csv."
    )
    start_date: str = Field("2018-01-02", title="Start date", description="First business day.")


class DataQAConfig(_Section):
    freshness_multiple: float = Field(
        3.0, gt=0, title="Freshness multiple", description="Stale after this many bar intervals."
    )
    max_missing_fraction: float = Field(
        0.05, ge=0, le=1, title="Completeness threshold", description="Reject a batch above this."
    )


class BrokerConfig(_Section):
    """Where orders go. Paper and read-only by default."""

    kind: Literal["sim", "ib"] = Field("sim", title="Broker", description="sim or ib.")
    host: str = Field("127.0.0.1", title="Host", description="TWS / IB Gateway host.")
    port: int = Field(
        4002, ge=1, le=65535, title="Port", description="4002/7497 paper, 4001/7496 live."
    )
    client_id: int = Field(1, ge=0, title="Client id", description="API client id.")
    account: SecretStr | None = Field(None, title="Account", description="Account id (masked).")
    readonly: bool = Field(True, title="Read-only", description="Connect read-only by default.")
    trading_mode: Literal["paper", "live"] = Field(
        "paper", title="Trading mode", description="paper unless explicitly live."
    )
    timeout: float = Field(10.0, gt=0, title="Timeout", description="Seconds per request.")
    reconnect_max_backoff: float = Field(
        30.0, gt=0, title="Max reconnect backoff", description="Seconds."
    )


class PacingConfig(_Section):
    rate: float = Field(45.0, gt=0, title="Rate", description="Messages/second we send (headroom).")
    limit: float = Field(50.0, gt=0, title="Broker limit", description="IBKR's messages/second.")
    burst: int = Field(1, ge=1, title="Burst", description="Token bucket capacity.")
    max_retries: int = Field(5, ge=0, title="Retries", description="Retries on transient failure.")
    backoff_initial: float = Field(0.25, gt=0, title="Initial backoff", description="Seconds.")

    @model_validator(mode="after")
    def _headroom(self) -> PacingConfig:
        if self.rate > self.limit:
            raise ValueError(f"pacing rate {self.rate} exceeds the broker limit {self.limit}")
        return self


class RiskConfig(_Section):
    """Pre-trade checks of the order plane."""

    max_order_notional: float = Field(
        250_000.0, gt=0, title="Max order notional", description="USD."
    )
    max_position_notional: float = Field(
        500_000.0, gt=0, title="Max position notional", description="USD."
    )
    price_collar: float = Field(
        0.05, gt=0, lt=1, title="Price collar", description="Max distance of a limit from last."
    )
    allow_short: bool = Field(True, title="Allow short", description="Short sales permitted.")


class GoLiveStage(_Section):
    name: str
    capital_fraction: float = Field(gt=0, le=1)
    max_position: float | None = Field(None, gt=0)
    weeks: int | None = Field(None, ge=1)


class GatesConfig(_Section):
    """Gate thresholds (SPEC §6)."""

    coverage_min: float = Field(0.80, ge=0, le=1, title="Coverage", description="Gate 1.")
    latency_delta_max: float = Field(
        0.50, ge=0, title="Latency delta", description="Gate 7: vs the mock baseline."
    )
    pacing_violations_max: int = Field(0, ge=0, title="Pacing violations", description="Gate 7.")
    fill_rate_min: float = Field(0.98, ge=0, le=1, title="Fill rate", description="Gate 7 (>).")
    sharpe_ratio_min: float = Field(
        0.5, ge=0, title="Sharpe ratio", description="Gate 7: paper ≥ this × backtest."
    )
    sharpe_test: Literal["statistical", "point"] = Field(
        "statistical",
        title="Sharpe comparison",
        description=(
            "Gate 7: 'point' compares the paper Sharpe with the threshold as numbers; "
            "'statistical' (default) fails only when the paper Sharpe is significantly below it, "
            "given the standard error √(252/days) of a Sharpe measured over a session of that "
            "many trading days."
        ),
    )
    sharpe_confidence: float = Field(
        0.95,
        gt=0.5,
        lt=1.0,
        title="Sharpe test confidence",
        description="One-sided confidence of the statistical Sharpe comparison.",
    )
    min_trades: int = Field(50, ge=1, title="Minimum trades", description="Gate 7 judges above.")
    max_trades: int = Field(200, ge=1, title="Maximum trades", description="Paper session target.")
    rollback_target_seconds: float = Field(
        120.0, gt=0, title="Rollback target", description="Flat within (seconds)."
    )
    required_roles: tuple[str, ...] = Field(
        ("risk_officer", "cto", "lead_trader"),
        title="Required sign-offs",
        description="Roles that must sign before GO.",
    )
    capital: float = Field(100_000.0, gt=0, title="Capital", description="Capital at full scale.")
    stages: tuple[GoLiveStage, ...] = (
        GoLiveStage(name="pilot", capital_fraction=0.10, max_position=2_500.0, weeks=1),
        GoLiveStage(name="ramp", capital_fraction=0.30, weeks=2),
        GoLiveStage(name="full", capital_fraction=1.0),
    )


class SessionConfig(_Section):
    duration_hours: float = Field(6.0, gt=0, title="Duration", description="Paper session hours.")
    speed: float = Field(1.0, gt=0, title="Clock speed", description="Simulated-clock multiplier.")
    bar_seconds: int = Field(60, ge=1, title="Bar size", description="Seconds per bar.")
    metrics_port: int = Field(8080, ge=0, le=65535, title="Metrics port", description="0 = off.")


class BusConfig(_Section):
    backend: Literal["memory", "kafka"] = Field("memory", title="Backend", description="Bus.")
    journal: Literal["sqlite", "segments", "none"] = Field(
        "segments",
        title="Journal",
        description="Durable journal of the embedded bus (docs/bus.md compares the two).",
    )
    journal_sync: Literal["normal", "full"] = Field(
        "normal",
        title="Journal sync",
        description="normal: group commits survive kill -9, flush() fsyncs; full: fsync every commit.",
    )
    partitions: int = Field(1, ge=1, title="Partitions", description="Partitions per topic.")
    flush_interval_ms: float = Field(
        5.0, gt=0, title="Group commit interval", description="Milliseconds between journal writes."
    )
    flush_max_messages: int = Field(
        1000, ge=1, title="Group commit size", description="Pending records forcing a write."
    )
    kafka_bootstrap: str = Field("127.0.0.1:9092", title="Kafka", description="Bootstrap servers.")
    kafka_topic_prefix: str = Field("", title="Topic prefix", description="Prefix of every topic.")
    kafka_replication_factor: int = Field(
        1, ge=1, title="Kafka replication", description="Replication factor of created topics."
    )
    kafka_client_id: str = Field(
        "algotrade", min_length=1, title="Kafka client id", description="client.id of every client."
    )
    kafka_session_timeout_ms: int = Field(
        10000,
        ge=1000,
        title="Kafka session timeout",
        description="Consumer group session.timeout.ms.",
    )
    kafka_security: dict[str, SecretStr] = Field(
        default_factory=dict,
        title="Kafka security",
        description="librdkafka settings passed through (security.protocol, sasl.*, ssl.*).",
    )


class PathsConfig(_Section):
    out: Path = Field(Path("out"), title="Output", description="Backtest output directory.")
    prelive: Path = Field(Path("prelive"), title="Pre-live", description="Gate artifacts.")
    state: Path = Field(Path(".algotrade"), title="State", description="Latches, journals.")
    logs: Path = Field(Path("logs"), title="Logs", description="Structured logs.")
    assets: Path | None = Field(
        None, title="Assets", description="Universe CSV; None = the bundled data/assets.csv."
    )
    seeds: Path | None = Field(
        None, title="Seeds", description="Seeds YAML; None = the bundled fixtures/seeds.yaml."
    )


class AppConfig(_Section):
    """The whole effective configuration."""

    schema_version: Literal["1"] = "1"
    signals: SignalsConfig = SignalsConfig()
    portfolio: PortfolioConfig = PortfolioConfig()
    regime: RegimeConfig = RegimeConfig()
    kill_switch: KillSwitchConfig = KillSwitchConfig()
    costs: CostsConfig = CostsConfig()
    backtest: BacktestConfig = BacktestConfig()
    market: SyntheticMarketConfig = SyntheticMarketConfig()
    qa: DataQAConfig = DataQAConfig()
    broker: BrokerConfig = BrokerConfig()
    pacing: PacingConfig = PacingConfig()
    risk: RiskConfig = RiskConfig()
    gates: GatesConfig = GatesConfig()
    session: SessionConfig = SessionConfig()
    bus: BusConfig = BusConfig()
    paths: PathsConfig = PathsConfig()

    def masked_dict(self, *, show_sensitive: bool = False) -> dict[str, Any]:
        """JSON-ready dict; secrets shown as ``'**********'`` unless ``show_sensitive``."""
        data = self.model_dump(mode="json")
        if show_sensitive and self.broker.account is not None:
            data["broker"]["account"] = self.broker.account.get_secret_value()
        if show_sensitive:
            data["bus"]["kafka_security"] = {
                k: v.get_secret_value() for k, v in self.bus.kafka_security.items()
            }
        return data

    def fingerprint(self) -> str:
        """SHA-256 of the effective config (secrets included), stable across key order."""
        payload = json.dumps(self.masked_dict(show_sensitive=True), sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()

    def with_overrides(self, overrides: Mapping[str, Any]) -> AppConfig:
        """A new config with dotted-path overrides applied (``{"portfolio.lambda_init": 1e-3}``)."""
        data = self.masked_dict(show_sensitive=True)
        for dotted, value in overrides.items():
            _set_path(data, dotted.split("."), value)
        return _validate(data, source="overrides")


class ConfigError(ValueError):
    """A config file or environment variable that cannot be used; the message says how to fix it."""


ENV_PREFIX = "ALGOTRADE_"
_ENV_SHORTCUTS = {
    "ALGOTRADE_IB_HOST": "broker.host",
    "ALGOTRADE_IB_PORT": "broker.port",
    "ALGOTRADE_IB_CLIENT_ID": "broker.client_id",
    "ALGOTRADE_IB_ACCOUNT": "broker.account",
}
# Variables with the prefix that are not config keys (CLI behaviour, test switches).
_ENV_IGNORED = {"ALGOTRADE_CONFIG", "ALGOTRADE_HOME", "ALGOTRADE_LOG_LEVEL"}


def load_config(path: Path | None = None, environ: Mapping[str, str] | None = None) -> AppConfig:
    """Defaults ← YAML file at ``path`` (optional) ← ``ALGOTRADE_*`` variables in ``environ``."""
    import yaml

    data: dict[str, Any] = {}
    source = "defaults"
    if path is not None:
        source = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from exc
        try:
            loaded = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path} is not valid YAML: {exc}") from exc
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise ConfigError(
                f"{path}: the top level must be a mapping of sections (signals:, portfolio:, …), "
                f"got {type(loaded).__name__}"
            )
        data = loaded
    env_items = _env_overrides(environ or {})
    for dotted, value in env_items.items():
        _set_path(data, dotted.split("."), value)
    if env_items:
        source += " + environment (" + ", ".join(sorted(env_items)) + ")"
    return _validate(data, source=source)


def _env_overrides(environ: Mapping[str, str]) -> dict[str, Any]:
    import yaml

    out: dict[str, Any] = {}
    for key, raw in environ.items():
        if not key.startswith(ENV_PREFIX) or key in _ENV_IGNORED:
            continue
        if key in _ENV_SHORTCUTS:
            dotted = _ENV_SHORTCUTS[key]
        elif "__" in key:
            dotted = ".".join(p.lower() for p in key[len(ENV_PREFIX) :].split("__"))
        else:
            continue
        try:
            value = yaml.safe_load(raw) if raw != "" else None
        except yaml.YAMLError:
            value = raw
        if dotted == "broker.account" and value is not None:
            value = str(raw)
        out[dotted] = value
    return out


def _set_path(data: dict[str, Any], parts: list[str], value: Any) -> None:
    node = data
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    node[parts[-1]] = value


def _validate(data: dict[str, Any], *, source: str) -> AppConfig:
    try:
        return AppConfig.model_validate(data)
    except ValidationError as exc:
        lines = [f"invalid configuration ({source}):"]
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"]) or "(top level)"
            value = err.get("input")
            shown = "<missing>" if err["type"] == "missing" else repr(value)
            if isinstance(value, dict):
                shown = "a mapping"
            hint = err["msg"]
            if err["type"] == "extra_forbidden":
                hint = "unknown key; check the spelling (see `algotrade config show`)"
            lines.append(f"  {where}: {shown} — {hint}")
        raise ConfigError("\n".join(lines)) from None


def config_json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of :class:`AppConfig`."""
    schema = AppConfig.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://algotrade.dev/schemas/config/v1/config.schema.json"
    return schema
