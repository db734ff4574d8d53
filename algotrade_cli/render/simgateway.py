"""Rendering of ``sim-gateway``: a live Rich status on a TTY, plain log lines otherwise."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

from rich.console import Group
from rich.live import Live
from rich.table import Table

from algotrade_cli.render import live_allowed, stderr_console

if TYPE_CHECKING:
    from engine.broker.simgateway.server import GatewayStatus

PLAIN_INTERVAL = 10.0


def _summary(s: GatewayStatus) -> str:
    st = s.stats
    return (
        f"clients={len(s.clients)} orders={st.orders} fills={st.fills} rejects={st.rejects} "
        f"cancels={st.cancels} pacing_errors={st.pacing_errors} "
        f"hist_pacing_errors={st.historical_pacing_errors} open_orders={s.open_orders} "
        f"positions={s.positions} net_liq={s.net_liquidation:,.2f} cash={s.cash:,.2f}"
        + (" OFFLINE(1100)" if s.offline else "")
    )


class GatewayDisplay:
    """Banner, periodic status and the closing line; Live table on a TTY."""

    def __init__(self, verbosity: int = 0) -> None:
        self.console = stderr_console()
        self.verbosity = verbosity
        self.is_live = live_allowed()
        self._live: Live | None = None
        self._last_line = ""
        self._last_print = 0.0
        handler: logging.Handler
        if self.is_live:
            from rich.logging import RichHandler

            handler = RichHandler(console=self.console, show_path=False)
        else:
            handler = logging.StreamHandler(self.console.file)
            handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        logger = logging.getLogger("algotrade.simgateway")
        logger.handlers = [handler]
        logger.setLevel(logging.INFO if verbosity > 0 else logging.WARNING)
        logger.propagate = False

    def warn(self, message: str) -> None:
        self.console.print(f"warning: {message}", markup=False, soft_wrap=True)

    def banner(self, s: GatewayStatus) -> None:
        self.console.print(
            f"sim-gateway listening on {s.host}:{s.port} (account {s.account}, server version "
            f"{s.server_version}); connect with IB().connect({s.host!r}, {s.port}, clientId=1)",
            markup=False,
            soft_wrap=True,
        )
        if s.faults:
            self.console.print("faults armed: " + ", ".join(s.faults), markup=False, soft_wrap=True)
        self.console.file.flush()

    @contextlib.contextmanager
    def live(self, first: GatewayStatus) -> Iterator[None]:
        self.banner(first)
        if not self.is_live:
            yield
            return
        with Live(
            self._table(first), console=self.console, refresh_per_second=4, transient=True
        ) as live:
            self._live = live
            try:
                yield
            finally:
                self._live = None

    def update(self, s: GatewayStatus) -> None:
        if self._live is not None:
            self._live.update(self._table(s))
            return
        line = _summary(s)
        now = time.monotonic()
        if line != self._last_line or now - self._last_print >= PLAIN_INTERVAL:
            if line != self._last_line or self.verbosity > 0:
                self.console.print(line, markup=False, soft_wrap=True)
                self.console.file.flush()
            self._last_line, self._last_print = line, now

    def finish(self, s: GatewayStatus, *, interrupted: bool) -> None:
        how = "interrupted" if interrupted else "stopped"
        self.console.print(
            f"sim-gateway {how} after {s.uptime:.1f} s: {_summary(s)}", markup=False, soft_wrap=True
        )

    def _table(self, s: GatewayStatus) -> Group:
        head = Table.grid(padding=(0, 2))
        head.add_row(
            f"[bold]sim-gateway[/] {s.host}:{s.port}",
            f"account {s.account}",
            f"server v{s.server_version}",
            f"up {s.uptime:,.0f} s",
            "[red]IB connectivity lost (1100)[/]" if s.offline else "[green]farms OK[/]",
        )
        clients = Table(title="clients", title_justify="left", expand=False)
        for col in (
            "client id",
            "peer",
            "state",
            "msgs in",
            "msgs out",
            "msg/s",
            "peak/s",
            "mkt lines",
        ):
            clients.add_column(
                col, justify="right" if col.startswith(("msg", "peak", "mkt")) else "left"
            )
        for c in s.clients:
            rate_style = "red" if c.rate_last_second > 45 else ""
            clients.add_row(
                str(c.client_id),
                c.peer,
                c.phase,
                str(c.messages_in),
                str(c.messages_out),
                f"[{rate_style}]{c.rate_last_second}[/]" if rate_style else str(c.rate_last_second),
                f"{c.peak_rate:.0f}",
                str(c.market_data_lines),
            )
        if not s.clients:
            clients.add_row("-", "waiting for clients", "", "", "", "", "", "")
        st = s.stats
        counters = Table.grid(padding=(0, 2))
        counters.add_row(
            f"orders {st.orders}",
            f"fills {st.fills}",
            f"rejects {st.rejects}",
            f"cancels {st.cancels}",
            f"open {s.open_orders}",
            f"positions {s.positions}",
        )
        counters.add_row(
            f"err100 {st.pacing_errors}",
            f"err162 {st.historical_pacing_errors}",
            f"net liq {s.net_liquidation:,.2f}",
            f"cash {s.cash:,.2f}",
        )
        parts: list[object] = [head, clients, counters]
        if s.faults:
            parts.append("faults: " + ", ".join(s.faults))
        return Group(*parts)  # type: ignore[arg-type]
