"""Fault injection: the IB behaviours that bite real users, reproduced on purpose.

``GatewayFaults`` is a mutable handle (``server.faults``) that tests and the CLI (``--faults``)
arm. Counters are "next N occurrences"; each use decrements them, so a test arms exactly the
fault it means to see.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

END_MESSAGES = frozenset(
    {
        "positionEnd",
        "openOrderEnd",
        "completedOrdersEnd",
        "accountDownloadEnd",
        "accountUpdateMultiEnd",
        "execDetailsEnd",
        "accountSummaryEnd",
        "contractDetailsEnd",
    }
)


class FaultSpecError(ValueError):
    """A ``--faults`` item is malformed; the message names the item and the accepted forms."""


@dataclass
class GatewayFaults:
    """Armed faults. Every field defaults to "off".

    Attributes
    ----------
    drop_before_order : drop the connection on the next N placeOrders without processing them.
    drop_after_order : process the next N placeOrders, then drop the connection before any ack.
    fill_while_disconnected : when a client disconnects, the market moves through its working
        orders so they fill while it is away (recoverable only via reqExecutions).
    withhold_end : End messages (e.g. ``"positionEnd"``) never sent; ``withhold_once`` makes it a
        single occurrence each.
    duplicate_fills : send the next N fills (execDetails + commissionReport) twice.
    commission_delay : seconds to hold every commissionReport back.
    inject_codes : informational error codes sent with the next order's id after its ack
        (e.g. 399, 10349); the order stays live.
    inject_orders : how many orders get ``inject_codes``.
    reject_orders : reject the next N orders with error 201.
    reject_reason : the reason text of those rejects.
    stall_acks : the next N orders get no ack and stay PendingSubmit until ``release_stalled``.
    blip_seconds : how long each CLI-armed connectivity loss (1100) lasts.
    blip_restore_code : 1101 (data lost) or 1102 (data maintained) at the end of a blip.
    blip_every : seconds between CLI-armed connectivity blips (0 = none); from Python call
        ``SimGateway.connectivity_blip`` directly.
    """

    drop_before_order: int = 0
    drop_after_order: int = 0
    fill_while_disconnected: bool = False
    withhold_end: set[str] = field(default_factory=set)
    withhold_once: bool = False
    duplicate_fills: int = 0
    commission_delay: float = 0.0
    inject_codes: tuple[int, ...] = ()
    inject_orders: int = 0
    reject_orders: int = 0
    reject_reason: str = "simulated rejection (fault injection)"
    stall_acks: int = 0
    blip_seconds: float = 0.0
    blip_restore_code: int = 1102
    blip_every: float = 0.0

    def withhold(self, *names: str) -> None:
        """Withhold these End messages (names as in ``END_MESSAGES``)."""
        unknown = set(names) - END_MESSAGES
        if unknown:
            raise FaultSpecError(
                f"unknown End message(s) {sorted(unknown)}; choose from {sorted(END_MESSAGES)}"
            )
        self.withhold_end.update(names)

    def take_withheld(self, name: str) -> bool:
        """True when ``name`` must not be sent now (consumes a one-shot withhold)."""
        if name not in self.withhold_end:
            return False
        if self.withhold_once:
            self.withhold_end.discard(name)
        return True

    @staticmethod
    def _take(counter: int) -> tuple[bool, int]:
        return (True, counter - 1) if counter > 0 else (False, 0)

    def take_drop_before(self) -> bool:
        hit, self.drop_before_order = self._take(self.drop_before_order)
        return hit

    def take_drop_after(self) -> bool:
        hit, self.drop_after_order = self._take(self.drop_after_order)
        return hit

    def take_reject(self) -> bool:
        hit, self.reject_orders = self._take(self.reject_orders)
        return hit

    def take_stall(self) -> bool:
        hit, self.stall_acks = self._take(self.stall_acks)
        return hit

    def take_duplicate(self) -> bool:
        hit, self.duplicate_fills = self._take(self.duplicate_fills)
        return hit

    def take_inject(self) -> tuple[int, ...]:
        if self.inject_orders > 0 and self.inject_codes:
            self.inject_orders -= 1
            return self.inject_codes
        return ()

    def active(self) -> list[str]:
        """Human-readable list of what is armed (for the CLI status)."""
        out = []
        for name in (
            "drop_before_order",
            "drop_after_order",
            "duplicate_fills",
            "reject_orders",
            "stall_acks",
            "inject_orders",
        ):
            value = getattr(self, name)
            if value:
                out.append(f"{name}={value}")
        if self.fill_while_disconnected:
            out.append("fill_while_disconnected")
        if self.withhold_end:
            out.append("withhold=" + "+".join(sorted(self.withhold_end)))
        if self.commission_delay:
            out.append(f"commission_delay={self.commission_delay:g}s")
        if self.blip_every:
            out.append(
                f"blip every {self.blip_every:g}s for {self.blip_seconds:g}s "
                f"-> {self.blip_restore_code}"
            )
        return out


FAULT_SPEC_HELP = (
    "comma-separated items: drop-before=N, drop-after=N, fill-while-disconnected, "
    "withhold=NAME[+NAME] (End messages, e.g. positionEnd), withhold-once, dup-fill=N, "
    "delay-commission=SECONDS, inject=CODE[+CODE][:N orders], reject=N, stall=N, "
    "blip=EVERY:SECONDS[:1101|1102]"
)


def _int_value(item: str, value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise FaultSpecError(
            f"fault {item!r}: {value!r} is not an integer; {FAULT_SPEC_HELP}"
        ) from None
    if n < 0:
        raise FaultSpecError(f"fault {item!r}: count must be ≥ 0, got {n}")
    return n


def _float_value(item: str, value: str) -> float:
    try:
        x = float(value)
    except ValueError:
        raise FaultSpecError(
            f"fault {item!r}: {value!r} is not a number; {FAULT_SPEC_HELP}"
        ) from None
    if x < 0:
        raise FaultSpecError(f"fault {item!r}: value must be ≥ 0, got {x}")
    return x


def parse_fault_spec(specs: Iterable[str]) -> GatewayFaults:
    """Build a ``GatewayFaults`` from CLI items (each may hold several comma-separated items)."""
    faults = GatewayFaults()
    items = [i.strip() for spec in specs for i in spec.split(",") if i.strip()]
    for item in items:
        name, _, value = item.partition("=")
        name = name.strip().lower()
        if name == "drop-before":
            faults.drop_before_order = _int_value(item, value or "1")
        elif name == "drop-after":
            faults.drop_after_order = _int_value(item, value or "1")
        elif name == "fill-while-disconnected":
            faults.fill_while_disconnected = True
        elif name == "withhold":
            faults.withhold(*[v for v in value.split("+") if v])
        elif name == "withhold-once":
            faults.withhold_once = True
        elif name == "dup-fill":
            faults.duplicate_fills = _int_value(item, value or "1")
        elif name == "delay-commission":
            faults.commission_delay = _float_value(item, value)
        elif name == "inject":
            codes_text, _, count = value.partition(":")
            codes = tuple(_int_value(item, c) for c in codes_text.split("+") if c)
            if not codes:
                raise FaultSpecError(f"fault {item!r}: give at least one code, e.g. inject=399")
            faults.inject_codes = codes
            faults.inject_orders = _int_value(item, count) if count else 1_000_000_000
        elif name == "reject":
            faults.reject_orders = _int_value(item, value or "1")
        elif name == "stall":
            faults.stall_acks = _int_value(item, value or "1")
        elif name == "blip":
            parts = value.split(":")
            if len(parts) not in (2, 3):
                raise FaultSpecError(
                    f"fault {item!r}: expected blip=EVERY:SECONDS[:1101|1102]; {FAULT_SPEC_HELP}"
                )
            faults.blip_every = _float_value(item, parts[0])
            faults.blip_seconds = _float_value(item, parts[1])
            if len(parts) == 3:
                code = _int_value(item, parts[2])
                if code not in (1101, 1102):
                    raise FaultSpecError(f"fault {item!r}: restore code must be 1101 or 1102")
                faults.blip_restore_code = code
        else:
            raise FaultSpecError(f"unknown fault {item!r}; {FAULT_SPEC_HELP}")
    return faults
