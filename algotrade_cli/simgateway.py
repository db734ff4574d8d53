"""``algotrade sim-gateway``: a TWS-API-protocol server on the simulated market."""

from __future__ import annotations

import typer

from algotrade_cli.context import guarded, not_available


@guarded
def sim_gateway(ctx: typer.Context) -> int:
    """Serve the TWS API protocol so ib_async clients can trade the simulated market."""
    return not_available("sim-gateway", "the simulated IB gateway")
