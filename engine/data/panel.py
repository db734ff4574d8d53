"""The date × symbol market panel every signal, the backtest and the QA read.

A :class:`MarketPanel` holds daily data as dense ``float64`` arrays of shape ``(T, N)``
(rows = dates, columns = symbols); ``NaN`` means "no value for that date and symbol". It is
immutable: arrays are read-only and every transformation returns a new panel.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

REQUIRED_FIELDS: tuple[str, ...] = ("open", "high", "low", "close")
"""Fields every panel has."""

OPTIONAL_FIELDS: tuple[str, ...] = (
    "volume",
    "bid_volume",
    "ask_volume",
    "eps_actual",
    "eps_estimate",
    "revenue_actual",
    "revenue_estimate",
    "implied_vol",
    "short_interest",
    "inst_ownership",
    "sentiment",
)
"""Optional fields (SPEC §2.1) that some signals use."""

ALL_FIELDS: tuple[str, ...] = REQUIRED_FIELDS + OPTIONAL_FIELDS
PRICE_FIELDS: tuple[str, ...] = REQUIRED_FIELDS


class PanelError(ValueError):
    """A panel that cannot be built as asked (shapes, dates, symbols); the message names the fix."""


def _frozen(array: Any) -> np.ndarray:
    out = np.array(array, dtype=np.float64, copy=True)
    out.setflags(write=False)
    return out


@dataclass(frozen=True)
class MarketPanel:
    """Daily market data as ``(T, N)`` float64 arrays keyed by field name.

    Parameters
    ----------
    dates : pandas.DatetimeIndex
        ``T`` daily dates, tz-naive, strictly increasing.
    symbols : tuple of str
        ``N`` unique symbols, the column order of every array.
    fields : mapping of str to ndarray
        ``"open", "high", "low", "close"`` are required; any of :data:`OPTIONAL_FIELDS` may be
        present. Each array is ``(T, N)`` float64; ``NaN`` = missing. Prices in the quote
        currency, volumes in shares, ``implied_vol`` annualised (0.25 = 25 %), ``short_interest``
        and ``inst_ownership`` as fractions of shares outstanding, ``sentiment`` in [-1, 1].
    """

    dates: pd.DatetimeIndex
    symbols: tuple[str, ...]
    fields: Mapping[str, np.ndarray] = field(repr=False)

    def __post_init__(self) -> None:
        dates = pd.DatetimeIndex(self.dates)
        if dates.tz is not None:
            raise PanelError("panel dates must be tz-naive calendar dates; drop the time zone")
        dates = dates.as_unit("ns")  # one resolution, so fingerprints do not depend on the source
        if len(dates) > 1 and not bool((np.diff(dates.asi8) > 0).all()):
            raise PanelError("panel dates must be strictly increasing (sorted, no duplicates)")
        symbols = tuple(str(s) for s in self.symbols)
        if len(set(symbols)) != len(symbols):
            dupes = sorted({s for s in symbols if symbols.count(s) > 1})
            raise PanelError(f"duplicate symbols in panel: {dupes}; each symbol once")
        missing = [f for f in REQUIRED_FIELDS if f not in self.fields]
        if missing:
            raise PanelError(f"panel is missing required fields {missing}")
        unknown = [f for f in self.fields if f not in ALL_FIELDS]
        if unknown:
            raise PanelError(f"unknown panel fields {unknown}; known fields: {list(ALL_FIELDS)}")
        shape = (len(dates), len(symbols))
        frozen: dict[str, np.ndarray] = {}
        for name in ALL_FIELDS:  # canonical order keeps fingerprints independent of dict order
            if name not in self.fields:
                continue
            arr = self.fields[name]
            if np.shape(arr) != shape:
                raise PanelError(
                    f"field {name!r} has shape {np.shape(arr)}, expected {shape} (dates × symbols)"
                )
            frozen[name] = arr if _is_frozen_f64(arr) else _frozen(arr)
        object.__setattr__(self, "dates", dates)
        object.__setattr__(self, "symbols", symbols)
        object.__setattr__(self, "fields", MappingProxyType(frozen))

    # --- shape -----------------------------------------------------------------------------
    @property
    def T(self) -> int:
        """Number of dates (rows)."""
        return len(self.dates)

    @property
    def N(self) -> int:
        """Number of symbols (columns)."""
        return len(self.symbols)

    # --- access ----------------------------------------------------------------------------
    def has(self, name: str) -> bool:
        """True if field ``name`` is present (it may still be NaN on some or all rows).

        Presence, not content, decides: truncating history must never change which signals
        exist. Loaders drop optional columns that are entirely empty.
        """
        return name in self.fields

    def get(self, name: str) -> np.ndarray | None:
        """The ``(T, N)`` array of ``name`` or ``None`` when the field is absent."""
        return self.fields.get(name)

    @property
    def close(self) -> np.ndarray:
        """Close prices, ``(T, N)``."""
        return self.fields["close"]

    def returns(self) -> np.ndarray:
        """Simple close-to-close returns ``close[t] / close[t-1] - 1``, ``(T, N)``; row 0 is NaN."""
        close = self.close
        out = np.full(close.shape, np.nan)
        if close.shape[0] > 1:
            with np.errstate(divide="ignore", invalid="ignore"):
                out[1:] = close[1:] / close[:-1] - 1.0
        return out

    def symbol_index(self, symbol: str) -> int:
        """Column of ``symbol``; raises ``KeyError`` naming the known symbols if absent."""
        try:
            return self.symbols.index(symbol)
        except ValueError:
            raise KeyError(f"symbol {symbol!r} is not in the panel") from None

    # --- slicing ---------------------------------------------------------------------------
    def _rows(self, rows: slice) -> MarketPanel:
        return MarketPanel(
            dates=self.dates[rows],
            symbols=self.symbols,
            fields={k: _readonly_view(v[rows]) for k, v in self.fields.items()},
        )

    def truncate(self, n_rows: int) -> MarketPanel:
        """The first ``n_rows`` dates (history as known at the close of row ``n_rows - 1``)."""
        if n_rows < 0:
            raise PanelError(f"truncate needs n_rows >= 0, got {n_rows}")
        return self._rows(slice(0, n_rows))

    def between(self, start: Any = None, end: Any = None) -> MarketPanel:
        """Dates in ``[start, end]`` (inclusive; ``None`` = open-ended)."""
        lo = 0 if start is None else int(self.dates.searchsorted(pd.Timestamp(start), "left"))
        hi = self.T if end is None else int(self.dates.searchsorted(pd.Timestamp(end), "right"))
        return self._rows(slice(lo, hi))

    def select(self, symbols: Iterable[str]) -> MarketPanel:
        """Only ``symbols``, in the order given; unknown symbols raise :class:`PanelError`."""
        wanted = list(symbols)
        unknown = [s for s in wanted if s not in self.symbols]
        if unknown:
            raise PanelError(f"symbols not in panel: {unknown}; available: {list(self.symbols)}")
        cols = [self.symbols.index(s) for s in wanted]
        return MarketPanel(
            dates=self.dates,
            symbols=tuple(wanted),
            fields={k: v[:, cols] for k, v in self.fields.items()},
        )

    def with_fields(
        self, updates: Mapping[str, np.ndarray], drop: Sequence[str] = ()
    ) -> MarketPanel:
        """A copy with fields replaced or added (``updates``) and others removed (``drop``)."""
        new = {k: v for k, v in self.fields.items() if k not in drop}
        new.update(updates)
        return MarketPanel(dates=self.dates, symbols=self.symbols, fields=new)

    # --- identity --------------------------------------------------------------------------
    def fingerprint(self) -> str:
        """SHA-256 (hex) of dates, symbols, field names and every array's bytes."""
        h = hashlib.sha256()
        h.update(b"algotrade-panel-v1\0")
        h.update(np.ascontiguousarray(self.dates.asi8).tobytes())
        h.update("\0".join(self.symbols).encode() + b"\0\0")
        for name, arr in self.fields.items():
            h.update(name.encode() + b"\0")
            h.update(np.ascontiguousarray(arr, dtype="<f8").tobytes())
        return h.hexdigest()

    def __repr__(self) -> str:
        span = f"{self.dates[0].date()}..{self.dates[-1].date()}" if self.T else "empty"
        return f"MarketPanel(T={self.T}, N={self.N}, {span}, fields={list(self.fields)})"


def _is_frozen_f64(arr: Any) -> bool:
    return isinstance(arr, np.ndarray) and arr.dtype == np.float64 and not arr.flags.writeable


def _readonly_view(arr: np.ndarray) -> np.ndarray:
    view = arr.view()
    view.setflags(write=False)
    return view
