"""Kill switches of SPEC §2.4, latched and persisted.

=========  ======================  ====================  ==================
switch     trigger                 action                warning
=========  ======================  ====================  ==================
``pnl``    pnl < −5 %              HALT_AND_FLATTEN      pnl < −3 %
``dd``     drawdown > 15 %         HALT_AND_FLATTEN      drawdown > 10 %
``psr``    PSR < 0.20              HALT_AND_INVESTIGATE  PSR < 0.30
=========  ======================  ====================  ==================

Levels come from :class:`~engine.config.KillSwitchConfig`. The PSR switch is armed only once
``n_obs ≥ psr_min_obs``. A HALT **latches**: the bank stays halted whatever the inputs do next,
and — with a :class:`FileLatchStore` — across process restarts, until :meth:`KillSwitchBank.reset`
is called with a person's name and a reason. Warnings are reported on entry into the warning zone
(not on every bar while inside it).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal, Protocol

from engine.config import KillSwitchConfig
from engine.util.atomic import atomic_write_text

Kind = Literal["pnl", "dd", "psr"]
Action = Literal["HALT_AND_FLATTEN", "HALT_AND_INVESTIGATE"]
Level = Literal["WARN", "HALT"]
KINDS: tuple[Kind, ...] = ("pnl", "dd", "psr")
LATCH_FILE_VERSION = 1


@dataclass(frozen=True)
class KillSwitch:
    """One switch: its kind, action and the two levels, with the comparison direction."""

    kind: Kind
    action: Action
    halt_level: float
    warn_level: float
    trips_below: bool  # True: value < level trips (pnl, psr); False: value > level (dd)

    def breached(self, value: float, level: float) -> bool:
        return value < level if self.trips_below else value > level


def switches_from_config(cfg: KillSwitchConfig) -> tuple[KillSwitch, ...]:
    return (
        KillSwitch("pnl", "HALT_AND_FLATTEN", cfg.pnl_halt, cfg.pnl_warn, trips_below=True),
        KillSwitch(
            "dd", "HALT_AND_FLATTEN", cfg.drawdown_halt, cfg.drawdown_warn, trips_below=False
        ),
        KillSwitch("psr", "HALT_AND_INVESTIGATE", cfg.psr_halt, cfg.psr_warn, trips_below=True),
    )


@dataclass(frozen=True)
class KillSwitchEvent:
    """A warning or a halt: which switch, the value seen, the level crossed, when."""

    kind: Kind
    level: Level
    action: Action | None
    value: float
    threshold: float
    at: str  # ISO-8601
    message: str

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class LatchState:
    """What is persisted: the halt (if any) and the last explicit reset."""

    halted: bool
    halt: KillSwitchEvent | None = None
    last_reset: dict[str, str] | None = None
    version: int = LATCH_FILE_VERSION

    def to_json(self) -> str:
        return json.dumps(
            {
                "version": self.version,
                "halted": self.halted,
                "halt": None if self.halt is None else self.halt.as_dict(),
                "last_reset": self.last_reset,
            },
            indent=2,
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> LatchState:
        data = json.loads(text)
        halt = data.get("halt")
        return cls(
            halted=bool(data["halted"]),
            halt=None if halt is None else KillSwitchEvent(**halt),
            last_reset=data.get("last_reset"),
            version=int(data.get("version", LATCH_FILE_VERSION)),
        )


class LatchStore(Protocol):
    """Where the latch lives between evaluations (and restarts)."""

    def load(self) -> LatchState | None: ...

    def save(self, state: LatchState) -> None: ...


@dataclass
class MemoryLatchStore:
    """In-memory latch (backtests): survives for the life of the object only."""

    state: LatchState | None = None

    def load(self) -> LatchState | None:
        return self.state

    def save(self, state: LatchState) -> None:
        self.state = state


@dataclass
class FileLatchStore:
    """JSON latch file written atomically; a corrupt file counts as HALTED (fail safe)."""

    path: Path

    def load(self) -> LatchState | None:
        try:
            text = Path(self.path).read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        try:
            return LatchState.from_json(text)
        except (ValueError, KeyError, TypeError) as exc:
            event = KillSwitchEvent(
                kind="pnl",
                level="HALT",
                action="HALT_AND_INVESTIGATE",
                value=math.nan,
                threshold=math.nan,
                at="",
                message=f"latch file {self.path} is unreadable ({exc}); treated as halted",
            )
            return LatchState(halted=True, halt=event)

    def save(self, state: LatchState) -> None:
        atomic_write_text(self.path, state.to_json() + "\n")


@dataclass
class KillSwitchBank:
    """The three switches evaluated together, with one shared latch."""

    cfg: KillSwitchConfig
    store: LatchStore | None = None
    switches: tuple[KillSwitch, ...] = field(init=False)
    _state: LatchState = field(init=False)
    _warning: dict[str, bool] = field(init=False)

    def __post_init__(self) -> None:
        self.switches = switches_from_config(self.cfg)
        if self.store is None:
            self.store = MemoryLatchStore()
        loaded = self.store.load()
        self._state = loaded if loaded is not None else LatchState(halted=False)
        self._warning = dict.fromkeys(KINDS, False)

    @property
    def warning(self) -> bool:
        """Some switch is past its warning level (and none has halted yet, or one has)."""
        return any(self._warning.values())

    @property
    def halted(self) -> bool:
        return self._state.halted

    @property
    def halt_event(self) -> KillSwitchEvent | None:
        return self._state.halt

    @property
    def state(self) -> LatchState:
        return self._state

    def evaluate(
        self,
        pnl_fraction: float,
        drawdown_fraction: float,
        psr: float,
        n_obs: int,
        at: datetime,
    ) -> list[KillSwitchEvent]:
        """Check every switch; returns the warnings and halts raised by this observation.

        ``pnl_fraction`` is PnL / reference capital (−0.05 = −5 %), ``drawdown_fraction`` a
        positive fraction of the peak, ``psr`` the current PSR (NaN = not computable), ``n_obs``
        the number of returns behind it. When already halted nothing is re-evaluated: the latch
        holds.
        """
        if self._state.halted:
            return []
        values = {"pnl": pnl_fraction, "dd": drawdown_fraction, "psr": psr}
        stamp = at.isoformat()
        events: list[KillSwitchEvent] = []
        for sw in self.switches:
            value = float(values[sw.kind])
            if not math.isfinite(value):
                continue
            if sw.kind == "psr" and n_obs < self.cfg.psr_min_obs:
                continue
            if sw.breached(value, sw.halt_level):
                events.append(
                    KillSwitchEvent(
                        kind=sw.kind,
                        level="HALT",
                        action=sw.action,
                        value=value,
                        threshold=sw.halt_level,
                        at=stamp,
                        message=_describe(sw, value, sw.halt_level, sw.action),
                    )
                )
            elif sw.breached(value, sw.warn_level):
                if not self._warning[sw.kind]:
                    events.append(
                        KillSwitchEvent(
                            kind=sw.kind,
                            level="WARN",
                            action=None,
                            value=value,
                            threshold=sw.warn_level,
                            at=stamp,
                            message=_describe(sw, value, sw.warn_level, None),
                        )
                    )
                self._warning[sw.kind] = True
            else:
                self._warning[sw.kind] = False
        halts = [e for e in events if e.level == "HALT"]
        if halts:
            # FLATTEN outranks INVESTIGATE when several trip on the same observation.
            first = min(halts, key=lambda e: e.action != "HALT_AND_FLATTEN")
            self._state = LatchState(halted=True, halt=first, last_reset=self._state.last_reset)
            assert self.store is not None
            self.store.save(self._state)
        return events

    def reset(self, by: str, reason: str, at: datetime | None = None) -> LatchState:
        """Clear the latch explicitly; ``by`` (a person) and ``reason`` are required.

        ``at`` (the caller's clock) is recorded with the reset when given.
        """
        if not by.strip() or not reason.strip():
            raise ValueError("reset needs a non-empty 'by' (who) and 'reason' (why)")
        record = {"by": by, "reason": reason}
        if at is not None:
            record["at"] = at.isoformat()
        if self._state.halt is not None:
            record["cleared"] = self._state.halt.message
        self._state = LatchState(halted=False, halt=None, last_reset=record)
        self._warning = dict.fromkeys(KINDS, False)
        assert self.store is not None
        self.store.save(self._state)
        return self._state


def _describe(sw: KillSwitch, value: float, level: float, action: Action | None) -> str:
    names = {"pnl": "PnL", "dd": "drawdown", "psr": "PSR"}
    op = "<" if sw.trips_below else ">"
    fmt = ".3f" if sw.kind == "psr" else ".2%"
    what = action if action else "warning"
    return f"{names[sw.kind]} {value:{fmt}} {op} {level:{fmt}}: {what}"
