"""IB error codes → typed outcomes, with the policy the adapter follows for each.

The table is the single source of truth: :class:`~engine.broker.ib.IBBroker` acts on it, and
gate 3 (interface mapping) renders it with :func:`error_table_markdown`, so the document cannot
drift from the code.

Key rule (see ``docs/broker.md``): ``ib_async`` marks a live order *Cancelled locally* for most
error codes outside its small warning set; an informational code such as 10349 would therefore
"cancel" an order that is still working at IB. The adapter never trusts a local cancellation
caused by a code whose ``ends_order`` is false here: it keeps the order open in its ledger and
re-reads open orders from the broker.

Sources: IB TWS API "Message Codes" (interactivebrokers.github.io/tws-api/message_codes.html) and
``ib_async.wrapper.Wrapper.error``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

OutcomeKind = Literal[
    "connectivity_lost",
    "connectivity_restored_data_lost",
    "connectivity_restored",
    "pacing_violation",
    "order_rejected",
    "order_cancelled",
    "cancel_not_found",
    "cancel_not_cancellable",
    "invalid_order_id",
    "duplicate_order_id",
    "duplicate_client_id",
    "not_connected",
    "no_security_definition",
    "read_only",
    "market_data",
    "historical_pacing",
    "farm_broken",
    "informational",
    "order_warning",
    "unknown",
]
Severity = Literal["info", "warning", "error", "critical"]


@dataclass(frozen=True)
class IBErrorCode:
    """One IB code: what it means, how serious, whether the order is really over, what we do."""

    code: int
    name: str
    kind: OutcomeKind
    severity: Severity
    ends_order: bool
    policy: str


def _e(
    code: int, name: str, kind: OutcomeKind, severity: Severity, ends_order: bool, policy: str
) -> IBErrorCode:
    return IBErrorCode(code, name, kind, severity, ends_order, policy)


IB_ERROR_TABLE: dict[int, IBErrorCode] = {
    e.code: e
    for e in (
        _e(100, "Max rate of messages per second exceeded", "pacing_violation", "critical", False,
           "Count a pacing violation (gate 7 requires zero); TWS disconnects next: reconnect "
           "with backoff and reconcile. The pacing limiter should make this impossible."),
        _e(101, "Max number of tickers reached", "market_data", "error", False,
           "Market-data line limit (~100): do not subscribe more symbols; report."),
        _e(103, "Duplicate order id", "duplicate_order_id", "error", True,
           "The order was not accepted; mark it REJECTED and take a fresh id from the client."),
        _e(110, "Price does not conform to the minimum tick", "order_warning", "warning", False,
           "ib_async treats it as a warning unless the order is PendingSubmit; reconcile."),
        _e(135, "Can't find order with that id", "cancel_not_found", "error", False,
           "The cancel found nothing: re-read open orders; the order may already be done."),
        _e(161, "Cancel attempted when order is not cancellable", "cancel_not_cancellable",
           "warning", False, "Cancel refused (already filled/cancelled): re-read its state."),
        _e(162, "Historical market data service error (incl. pacing)", "historical_pacing",
           "warning", False, "Back off: identical request within 15 s or >60 in 10 min."),
        _e(200, "No security definition has been found", "no_security_definition", "error", True,
           "The order is rejected: mark REJECTED with the message as reason."),
        _e(201, "Order rejected", "order_rejected", "error", True,
           "Mark REJECTED; the reason text (e.g. insufficient buying power) goes to the report."),
        _e(202, "Order cancelled", "order_cancelled", "info", True,
           "Confirms a cancel (ours or the server's): mark CANCELED."),
        _e(203, "Security not available or allowed for this account", "order_rejected", "error",
           True, "Mark REJECTED."),
        _e(321, "Server error validating request (read-only API)", "read_only", "error", False,
           "Read-only connection refused an order message; ib_async keeps the order live, we "
           "refuse orders on read-only connections before sending anything."),
        _e(326, "Client id already in use", "duplicate_client_id", "critical", False,
           "The socket is closed: connect with another client id; not reachable until then."),
        _e(354, "Requested market data is not subscribed", "market_data", "warning", False,
           "No market-data permission: report; orders are unaffected."),
        _e(399, "Order message warning", "order_warning", "warning", False,
           "Informational: the order stays live; never cancel locally."),
        _e(404, "Shares not available for short sale; order held", "order_warning", "warning",
           False, "The order is held, not cancelled: keep it open."),
        _e(502, "Couldn't connect to TWS", "not_connected", "critical", False,
           "Unreachable: exit 3; reconnect with backoff when running."),
        _e(504, "Not connected", "not_connected", "critical", False,
           "Nothing was sent: not ready; reconnect with backoff."),
        _e(1100, "Connectivity between IB and TWS lost", "connectivity_lost", "critical", False,
           "Not ready: stop sending orders (the API socket stays up); wait for 1101/1102."),
        _e(1101, "Connectivity restored, data lost", "connectivity_restored_data_lost", "warning",
           False, "Resubscribe market data and account updates; re-request executions; "
                  "reconcile; then ready."),
        _e(1102, "Connectivity restored, data maintained", "connectivity_restored", "info", False,
           "Re-request executions (fills during the outage) and reconcile; then ready."),
        _e(2103, "Market data farm connection is broken", "farm_broken", "warning", False,
           "Market data may be stale; orders unaffected; report."),
        _e(2104, "Market data farm connection is OK", "informational", "info", False,
           "Informational; never cancel locally."),
        _e(2105, "Historical data farm connection is broken", "farm_broken", "warning", False,
           "Historical data unavailable; report."),
        _e(2106, "Historical data farm connection is OK", "informational", "info", False,
           "Informational; never cancel locally."),
        _e(2107, "Historical data farm inactive, available on demand", "informational", "info",
           False, "Informational."),
        _e(2108, "Market data farm inactive, available on demand", "informational", "info",
           False, "Informational."),
        _e(2110, "Connectivity between TWS and server is broken", "connectivity_lost", "critical",
           False, "Not ready until restored; then reconcile."),
        _e(2157, "Sec-def data farm connection is broken", "farm_broken", "warning", False,
           "Contract lookups may fail; report."),
        _e(2158, "Sec-def data farm connection is OK", "informational", "info", False,
           "Informational; never cancel locally."),
        _e(10147, "Order to cancel not found", "cancel_not_found", "warning", False,
           "The cancel found nothing: re-read open orders and executions."),
        _e(10148, "Order cannot be cancelled in its state", "cancel_not_cancellable", "warning",
           False, "Already filled or cancelled: re-read its state."),
        _e(10149, "Invalid order id", "invalid_order_id", "error", False,
           "Nothing to cancel: re-read open orders."),
        _e(10167, "Displaying delayed market data", "informational", "info", False,
           "Informational; never cancel locally."),
        _e(10349, "Order TIF was set to DAY based on order preset", "informational", "info", False,
           "Informational (ib_async wrongly cancels locally): keep the order open, reconcile."),
    )
}  # fmt: skip


def classify(code: int) -> IBErrorCode:
    """The table entry for ``code``; 2100–2199 default to informational, anything else unknown."""
    entry = IB_ERROR_TABLE.get(code)
    if entry is not None:
        return entry
    if 2100 <= code < 2200:
        return IBErrorCode(code, "Notification", "informational", "info", False,
                           "Informational (21xx range); never cancel locally.")  # fmt: skip
    return IBErrorCode(
        code, "Unlisted code", "unknown", "error", False,
        "Unknown: do not trust a local cancellation; re-read open orders and executions.",
    )  # fmt: skip


def error_table_markdown() -> str:
    """The table as Markdown (gate 3's IBKR_INTERFACE_MAP.md embeds it)."""
    lines = [
        "| code | meaning | outcome | severity | ends the order | policy |",
        "|---|---|---|---|---|---|",
    ]
    for e in sorted(IB_ERROR_TABLE.values(), key=lambda x: x.code):
        lines.append(
            f"| {e.code} | {e.name} | {e.kind} | {e.severity} | "
            f"{'yes' if e.ends_order else 'no'} | {e.policy} |"
        )
    return "\n".join(lines)
