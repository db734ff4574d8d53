"""Contracts as the TWS protocol carries them, and the gateway's instrument registry.

Every symbol gets one stable, unique ``conId`` (``ib_async`` keys positions, portfolio items and
tickers by conId, so two symbols sharing one would silently merge).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

CONTRACT_FIELDS = 12
CON_ID_BASE = 100_000


@dataclass(frozen=True)
class ContractSpec:
    """The 12 contract fields of the client's wire layout (``Client.send`` expands a Contract)."""

    con_id: int = 0
    symbol: str = ""
    sec_type: str = ""
    last_trade_date: str = ""
    strike: float = 0.0
    right: str = ""
    multiplier: str = ""
    exchange: str = ""
    primary_exchange: str = ""
    currency: str = ""
    local_symbol: str = ""
    trading_class: str = ""

    @classmethod
    def from_fields(cls, fields: Sequence[str]) -> ContractSpec:
        """Build from the 12 wire fields in the client's order."""
        if len(fields) != CONTRACT_FIELDS:
            raise ValueError(f"a contract has {CONTRACT_FIELDS} fields, got {len(fields)}")
        return _contract_from_fields(tuple(fields))


@lru_cache(maxsize=4096)
def _contract_from_fields(fields: tuple[str, ...]) -> ContractSpec:
    """Clients send the same few contracts over and over: parse each once."""
    con_id, sym, sec, ltd, strike, right, mult, exch, prim, ccy, local, tclass = fields
    return ContractSpec(
        con_id=int(con_id or 0),
        symbol=sym,
        sec_type=sec,
        last_trade_date=ltd,
        strike=float(strike or 0.0),
        right=right if right != "?" else "",
        multiplier=mult,
        exchange=exch,
        primary_exchange=prim,
        currency=ccy,
        local_symbol=local,
        trading_class=tclass,
    )


@dataclass(frozen=True)
class Instrument:
    """One tradable stock on the simulated gateway."""

    con_id: int
    symbol: str
    primary_exchange: str = "NASDAQ"
    currency: str = "USD"
    long_name: str = ""
    min_tick: float = 0.01

    def contract(self, exchange: str = "SMART") -> ContractSpec:
        """The fully qualified contract (what contract details and positions report)."""
        return _qualified(self, exchange)


@lru_cache(maxsize=4096)
def _qualified(inst: Instrument, exchange: str) -> ContractSpec:
    return ContractSpec(
        con_id=inst.con_id,
        symbol=inst.symbol,
        sec_type="STK",
        exchange=exchange,
        primary_exchange=inst.primary_exchange,
        currency=inst.currency,
        local_symbol=inst.symbol,
        trading_class=inst.symbol,
    )


def stable_con_id(symbol: str) -> int:
    """A deterministic conId for a symbol (CRC32-based, so the same on every run)."""
    return CON_ID_BASE + zlib.crc32(symbol.upper().encode()) % 900_000_000


class InstrumentRegistry:
    """Symbols known to the gateway; unknown stock symbols are admitted on first lookup."""

    def __init__(self, symbols: Iterable[str] = (), *, admit_unknown: bool = True) -> None:
        self._by_symbol: dict[str, Instrument] = {}
        self._by_con_id: dict[int, Instrument] = {}
        self._admit_unknown = admit_unknown
        for sym in symbols:
            self.add(sym)

    def add(
        self,
        symbol: str,
        *,
        primary_exchange: str = "NASDAQ",
        long_name: str = "",
        min_tick: float = 0.01,
    ) -> Instrument:
        """Register ``symbol`` (idempotent) and return its instrument."""
        key = symbol.upper()
        existing = self._by_symbol.get(key)
        if existing is not None:
            return existing
        con_id = stable_con_id(key)
        while con_id in self._by_con_id:  # CRC collision: probe to keep conIds unique
            con_id += 1
        inst = Instrument(
            con_id=con_id,
            symbol=key,
            primary_exchange=primary_exchange,
            long_name=long_name or f"{key} SIMULATED INC",
            min_tick=min_tick,
        )
        self._by_symbol[key] = inst
        self._by_con_id[con_id] = inst
        return inst

    def resolve(self, contract: ContractSpec) -> Instrument | None:
        """The instrument a client contract refers to, or None (→ error 200)."""
        if contract.con_id:
            inst = self._by_con_id.get(contract.con_id)
            if inst is not None and (not contract.symbol or contract.symbol.upper() == inst.symbol):
                return inst
            return None
        sym = (contract.symbol or contract.local_symbol).upper()
        if not sym or contract.sec_type not in ("", "STK"):
            return None
        if contract.currency and contract.currency != "USD":
            return None
        inst = self._by_symbol.get(sym)
        if inst is None and self._admit_unknown:
            inst = self.add(sym)
        return inst

    def by_symbol(self, symbol: str) -> Instrument | None:
        return self._by_symbol.get(symbol.upper())

    def by_con_id(self, con_id: int) -> Instrument | None:
        return self._by_con_id.get(con_id)

    @property
    def symbols(self) -> tuple[str, ...]:
        return tuple(self._by_symbol)


def with_exchange(contract: ContractSpec, exchange: str) -> ContractSpec:
    """The same contract routed to ``exchange``."""
    return replace(contract, exchange=exchange)
