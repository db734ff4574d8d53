"""``algotrade sim-gateway``: a TWS-API-protocol server on the simulated market."""

from __future__ import annotations

import typer

from algotrade_cli.context import eprint, get_state, guarded, print_json
from algotrade_cli.exit_codes import ExitCode

DEFAULT_ACCOUNT = "DU7654321"  # keep equal to engine.broker.simgateway.DEFAULT_ACCOUNT


@guarded
def sim_gateway(
    ctx: typer.Context,
    port: int = typer.Option(
        4002, "--port", "-p", help="TCP port (0 = any free port).", min=0, max=65535
    ),
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to bind; loopback by default."),
    account: str = typer.Option(
        DEFAULT_ACCOUNT, "--account", help="Account id; paper-style DU… by default."
    ),
    seed: int = typer.Option(0, "--seed", help="Seed of prices and the fill model.", min=0),
    latency_ms: float = typer.Option(
        0.0, "--latency-ms", help="Order latency of the fill model.", min=0
    ),
    faults: list[str] = typer.Option(
        [],
        "--faults",
        help=(
            "Faults to inject, comma-separated (repeatable): drop-before=N, drop-after=N, "
            "fill-while-disconnected, withhold=positionEnd[+…], withhold-once, dup-fill=N, "
            "delay-commission=S, inject=399+10349[:N], reject=N, stall=N, blip=EVERY:S[:1101|1102]."
        ),
    ),
    server_version: int = typer.Option(
        178, "--server-version", help="TWS API server version (157–178)."
    ),
    no_pacing: bool = typer.Option(False, "--no-pacing", help="Do not enforce the 50 msg/s rule."),
    prices: str = typer.Option(
        "synthetic",
        "--prices",
        help="synthetic (the embedded synthetic market) or random-walk (light, seeded).",
    ),
    read_only_api: bool = typer.Option(
        False, "--read-only-api", help="Like TWS's Read-Only API setting: orders get error 321."
    ),
    run_for: float | None = typer.Option(
        None, "--run-for", help="Stop after this many seconds (scripts and CI).", min=0
    ),
) -> int:
    """Serve the TWS API protocol so ib_async clients can trade the simulated market.

    Runs in the foreground until Ctrl-C (exit 130) or SIGTERM (exit 0). Point any ib_async code
    at it: IB().connect("127.0.0.1", 4002, clientId=1).
    """
    import asyncio
    import ipaddress

    from algotrade_cli.render.simgateway import GatewayDisplay
    from engine.broker.simgateway import GatewayConfig, SimGateway, parse_fault_spec
    from engine.broker.simgateway.faults import FaultSpecError

    state = get_state(ctx)
    if prices not in ("synthetic", "random-walk"):
        eprint(f"error: --prices {prices!r}: choose synthetic or random-walk")
        return int(ExitCode.USAGE)
    try:
        fault_handle = parse_fault_spec(faults)
        config = GatewayConfig(
            host=host,
            port=port,
            account=account,
            seed=seed,
            latency_ms=latency_ms,
            server_version=server_version,
            message_rate_limit=None if no_pacing else 50.0,
            price_model="synthetic" if prices == "synthetic" else "random_walk",
            read_only_api=read_only_api,
        )
    except (FaultSpecError, ValueError) as exc:
        eprint(f"error: {exc}")
        return int(ExitCode.USAGE)
    warnings = []
    try:
        if not ipaddress.ip_address(host).is_loopback:
            warnings.append(f"binding {host}: the simulated gateway is reachable from other hosts")
    except ValueError:
        warnings.append(f"binding host name {host!r}; use 127.0.0.1 to stay on loopback")
    if not account.startswith("DU"):
        warnings.append(
            f"account {account!r} is not paper-style (DU…); clients may treat it as live"
        )

    gateway = SimGateway(config, faults=fault_handle)
    display = GatewayDisplay(verbosity=state.verbosity)
    for warning in warnings:
        display.warn(warning)
    interrupted = asyncio.run(_serve(gateway, display, run_for))
    final = gateway.status()
    display.finish(final, interrupted=interrupted)
    if state.json_output:
        print_json(_status_json(final))
    return int(ExitCode.INTERRUPTED) if interrupted else int(ExitCode.OK)


async def _serve(gateway: object, display: object, run_for: float | None) -> bool:
    """Run until SIGTERM/SIGINT or ``run_for``; True when interrupted by Ctrl-C."""
    import asyncio
    import contextlib
    import signal

    from algotrade_cli.render.simgateway import GatewayDisplay
    from engine.broker.simgateway import SimGateway

    assert isinstance(gateway, SimGateway) and isinstance(display, GatewayDisplay)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    interrupted = False

    def on_sigint() -> None:
        nonlocal interrupted
        interrupted = True
        stop.set()

    installed = []
    for sig, handler in ((signal.SIGINT, on_sigint), (signal.SIGTERM, stop.set)):
        try:
            loop.add_signal_handler(sig, handler)
            installed.append(sig)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread / Windows
            pass
    await gateway.start()
    deadline = None if run_for is None else loop.time() + run_for
    try:
        with display.live(gateway.status()):
            while not stop.is_set():
                timeout = 0.25 if deadline is None else max(0.0, min(0.25, deadline - loop.time()))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=timeout)
                display.update(gateway.status())
                if deadline is not None and loop.time() >= deadline:
                    break
    finally:
        await gateway.stop()
        for sig in installed:
            loop.remove_signal_handler(sig)
    return interrupted


def _status_json(status: object) -> dict[str, object]:
    from dataclasses import asdict

    return asdict(status)  # type: ignore[call-overload]
