"""What the gateway reports about the account: values, portfolio, positions, summaries.

``AccountReports`` reads the shared exchange core and the instrument registry and returns TWS
messages; ``ExecutionFilter`` is reqExecutions' filter.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from engine.broker.sim_exchange import SimExchange
from engine.broker.simgateway import messages as m
from engine.broker.simgateway.instruments import InstrumentRegistry


def money(x: float) -> str:
    """USD with cents, as TWS formats account values."""
    return f"{x:.2f}"


def ib_time(epoch: float) -> str:
    """``YYYYmmdd HH:MM:SS UTC`` as execDetails carries it."""
    return time.strftime("%Y%m%d %H:%M:%S UTC", time.gmtime(epoch))


class AccountReports:
    """Account, portfolio and position messages for one account held by ``exchange``."""

    def __init__(
        self,
        exchange: SimExchange,
        registry: InstrumentRegistry,
        account: str,
        clock: Callable[[], float],
    ) -> None:
        self.exchange = exchange
        self.registry = registry
        self.account = account
        self.clock = clock

    def position_messages(self) -> list[m.Msg]:
        acct = self.account
        out: list[m.Msg] = []
        for pos in self.exchange.positions():
            inst = self.registry.by_symbol(pos.symbol)
            if inst is not None:
                out.append(m.position(acct, inst.contract(), float(pos.quantity), pos.avg_cost))
        return out

    def position_message(self, symbol: str) -> m.Msg | None:
        inst = self.registry.by_symbol(symbol)
        if inst is None:
            return None
        for pos in self.exchange.positions():
            if pos.symbol == symbol:
                return m.position(self.account, inst.contract(), float(pos.quantity), pos.avg_cost)
        return m.position(self.account, inst.contract(), 0.0, 0.0)

    def account_values(self) -> list[tuple[str, str, str]]:
        """(key, value, currency) rows as reqAccountUpdates / accountSummary report them."""
        a = self.exchange.account()
        init = a.gross_position_value * 0.5
        maint = a.gross_position_value * 0.25
        rows = [
            ("AccountCode", self.account, ""),
            ("AccountType", "INDIVIDUAL", ""),
            ("Currency", "USD", "USD"),
            ("NetLiquidation", money(a.net_liquidation), "USD"),
            ("TotalCashValue", money(a.cash), "USD"),
            ("SettledCash", money(a.cash), "USD"),
            ("CashBalance", money(a.cash), "USD"),
            ("CashBalance", money(a.cash), "BASE"),
            ("AccruedCash", "0.00", "USD"),
            ("BuyingPower", money(a.buying_power), "USD"),
            ("EquityWithLoanValue", money(a.net_liquidation), "USD"),
            ("GrossPositionValue", money(a.gross_position_value), "USD"),
            ("InitMarginReq", money(init), "USD"),
            ("MaintMarginReq", money(maint), "USD"),
            ("FullInitMarginReq", money(init), "USD"),
            ("FullMaintMarginReq", money(maint), "USD"),
            ("AvailableFunds", money(a.net_liquidation - init), "USD"),
            ("FullAvailableFunds", money(a.net_liquidation - init), "USD"),
            ("ExcessLiquidity", money(a.net_liquidation - maint), "USD"),
            ("FullExcessLiquidity", money(a.net_liquidation - maint), "USD"),
            ("UnrealizedPnL", money(a.unrealized_pnl), "USD"),
            ("RealizedPnL", money(a.realized_pnl), "USD"),
            ("UnrealizedPnL", money(a.unrealized_pnl), "BASE"),
            ("RealizedPnL", money(a.realized_pnl), "BASE"),
            (
                "Leverage",
                f"{a.gross_position_value / a.net_liquidation:.4f}" if a.net_liquidation else "0",
                "",
            ),
            (
                "Cushion",
                f"{(a.net_liquidation - maint) / a.net_liquidation:.4f}"
                if a.net_liquidation
                else "0",
                "",
            ),
            ("DayTradesRemaining", "-1", ""),
        ]
        return rows

    def portfolio_messages(self) -> list[m.Msg]:
        out: list[m.Msg] = []
        for pos in self.exchange.positions():
            inst = self.registry.by_symbol(pos.symbol)
            if inst is None:
                continue
            out.append(
                m.portfolio_value(
                    inst.contract(exchange=""),
                    float(pos.quantity),
                    pos.market_price,
                    pos.market_value,
                    pos.avg_cost,
                    pos.unrealized_pnl,
                    pos.realized_pnl,
                    self.account,
                )
            )
        return out

    def account_update_messages(self, symbols: set[str] | None = None) -> list[m.Msg]:
        acct = self.account
        out = [m.account_value(k, v, c, acct) for k, v, c in self.account_values()]
        if symbols is None:
            out += self.portfolio_messages()
        else:
            held = {p.symbol for p in self.exchange.positions()}
            for sym in symbols:
                inst = self.registry.by_symbol(sym)
                if inst is None:
                    continue
                if sym in held:
                    out += [msg for msg in self.portfolio_messages() if msg[3] == sym]
                else:
                    out.append(
                        m.portfolio_value(
                            inst.contract(exchange=""),
                            0.0,
                            self.exchange.last_price(sym),
                            0.0,
                            0.0,
                            0.0,
                            0.0,
                            acct,
                        )
                    )
        out.append(
            m.account_update_time(datetime.fromtimestamp(self.clock(), UTC).strftime("%H:%M"))
        )
        return out

    def account_multi_messages(self, req_id: int) -> list[m.Msg]:
        acct = self.account
        return [
            m.account_update_multi(req_id, acct, "", k, v, c) for k, v, c in self.account_values()
        ]

    def account_summary_messages(self, req_id: int, tags: str) -> list[m.Msg]:
        wanted = {t.strip() for t in tags.split(",") if t.strip()}
        ledger = "$LEDGER" in wanted or "$LEDGER:ALL" in wanted
        out: list[m.Msg] = []
        for key, value, ccy in self.account_values():
            if (key in wanted and ccy != "BASE") or (
                ledger and key in ("CashBalance", "RealizedPnL", "UnrealizedPnL")
            ):
                out.append(m.account_summary(req_id, self.account, key, value, ccy))
        return out


@dataclass(frozen=True)
class ExecutionFilter:
    """reqExecutions filter; empty fields match everything (clientId 0 = every client)."""

    client_id: int = 0
    account: str = ""
    time: str = ""
    symbol: str = ""
    sec_type: str = ""
    exchange: str = ""
    side: str = ""

    def matches(self, client_id: int, account: str, at: float, symbol: str, side: str) -> bool:
        if self.client_id and client_id != self.client_id:
            return False
        if self.account and account != self.account:
            return False
        if self.symbol and symbol != self.symbol.upper():
            return False
        if self.sec_type and self.sec_type != "STK":
            return False
        if self.side and self.side.upper() not in (side, {"BUY": "BOT", "SELL": "SLD"}[side]):
            return False
        if self.time:
            since = parse_ib_time(self.time)
            if since is not None and at < since:
                return False
        return True


def parse_ib_time(text: str) -> float | None:
    """``"yyyymmdd hh:mm:ss"`` (or ``yyyymmdd-hh:mm:ss``) read as UTC, whatever zone follows, as
    epoch seconds; None when empty or not understood."""
    parts = text.replace("-", " ").split()
    try:
        stamp = datetime.strptime(" ".join(parts[:2]), "%Y%m%d %H:%M:%S")
    except ValueError:
        return None
    return stamp.replace(tzinfo=UTC).timestamp()
