"""``ACCOUNT_CONFIG.json`` — what the read-only account probe (gate 6) saw."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, model_validator

from artifacts.models.base import (
    ArtifactModel,
    FrozenModel,
    MaskedAccountId,
    NonNegFloat,
    UtcDatetime,
)

__all__ = ["AccountConfig", "BrokerNotice"]


class BrokerNotice(FrozenModel):
    """An error or informational message the broker sent during the probe."""

    code: int | None = Field(None, title="Code", description="Broker error code (IB: 2104, 1100…).")
    message: str = Field(title="Message", description="The broker's text.")
    severity: Literal["info", "warning", "error"] = Field(
        "info", title="Severity", description="How the adapter classified it."
    )


class AccountConfig(ArtifactModel):
    """The account as a read-only probe saw it; gate 6 passes when connected and buying power > 0.

    Money amounts are in ``currency`` (the account's base currency). The account id is always
    masked (``DU*****567``); paper/live is told apart by its prefix and the port.
    """

    FILE_NAME: ClassVar[str] = "ACCOUNT_CONFIG.json"

    schema_version: Literal["1"] = "1"
    artifact_type: Literal["account_config"] = "account_config"

    broker_kind: Literal["sim", "ib"] = Field(
        title="Broker", description="sim (in-process simulated broker) or ib (TWS/IB Gateway)."
    )
    host: str | None = Field(None, title="Host", description="Gateway host (None for sim).")
    port: int | None = Field(None, ge=1, le=65535, title="Port", description="Gateway port.")
    client_id: int | None = Field(None, ge=0, title="Client id", description="API client id.")
    account_id_masked: MaskedAccountId | None = Field(
        None, title="Account", description="Masked account id; None when not connected."
    )
    trading_mode: Literal["paper", "live", "unknown"] = Field(
        title="Trading mode", description="paper (DU… / paper port), live, or unknown."
    )
    mode_evidence: tuple[str, ...] = Field(
        (), title="Mode evidence", description="Why the mode was decided, e.g. 'account prefix DU'."
    )
    connected: bool = Field(title="Connected", description="Whether the probe connected.")
    read_only: bool = Field(
        True, title="Read-only", description="The connection was read-only (it always is)."
    )
    server_version: int | None = Field(
        None, ge=0, title="Server version", description="TWS API server version (ib only)."
    )
    currency: str | None = Field(
        None,
        pattern=r"^[A-Z]{3}$",
        title="Currency",
        description="Base currency, ISO 4217 (USD).",
    )
    net_liquidation: float | None = Field(
        None, title="Net liquidation", description="Account net liquidation value."
    )
    buying_power: float | None = Field(None, title="Buying power", description="Buying power.")
    cash: float | None = Field(None, title="Cash", description="Total cash value.")
    available_funds: float | None = Field(
        None, title="Available funds", description="Available funds, when reported."
    )
    permissions: tuple[str, ...] = Field(
        (),
        title="Permissions seen",
        description="Trading/market-data permissions and account capabilities the probe observed.",
    )
    positions_count: int | None = Field(
        None, ge=0, title="Positions", description="Number of open positions seen."
    )
    open_orders_count: int | None = Field(
        None, ge=0, title="Open orders", description="Number of open orders seen."
    )
    probed_at: UtcDatetime = Field(title="Probed at", description="When the probe started (UTC).")
    probe_seconds: NonNegFloat = Field(
        title="Probe duration", description="Wall seconds from connect to disconnect."
    )
    notices: tuple[BrokerNotice, ...] = Field(
        (), title="Broker messages", description="Errors and notices received during the probe."
    )
    failure: str | None = Field(
        None,
        title="Failure",
        description="Why the probe could not connect or read the account (None on success).",
    )

    @model_validator(mode="after")
    def _consistent(self) -> AccountConfig:
        if not self.connected and self.failure is None:
            raise ValueError("failure must say why when connected is false")
        if self.connected and self.failure is not None:
            raise ValueError("failure must be null when connected is true")
        return self
