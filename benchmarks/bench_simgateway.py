"""Simulated IB gateway: connect + startup sync, order round trip vs a bare TCP echo, pacing.

``python -m benchmarks.bench_simgateway [--quick]`` starts, in one server subprocess, the simulated
gateway (pacing off, latency 0), a second gateway with IBKR pacing on (50 msg/s), and a bare
asyncio TCP echo server; then, from this process:

- (a) connect + startup sync: the real ``ib_async`` ``IB.connectAsync`` (handshake, positions,
  open and completed orders, account updates and multi, executions), N times on a fresh account,
  and once more on the account after (b) (1,000+ executions and completed orders to sync);
- (b) placeOrder → Filled round trip over 1,000 market orders (``--quick``: 200) with the
  latency model at 0: a raw client sends the exact bytes ``ib_async``'s ``Client.placeOrder``
  produces and times until the ``orderStatus`` Filled frame arrives;
- (c) the baseline for (b), measured in the same run: a bare TCP echo round trip of the same
  frames — the same placeOrder frame out, and back the gateway's own recorded reply up to and
  including Filled (same frames, same sizes) — read by the same client loop, served from the same
  server process; (b) and (c) are interleaved in halves;
- (d) sustained 45 msg/s for 60 s (``--quick``: 10 s) from ``ib_async`` against the pacing
  gateway (market orders and requests mixed), counting error 100.

Target (issue 6): p50 of (b) ≤ 5 × p50 of (c); zero error 100 in (d).
Prints a plain table and writes ``benchmarks/results/simgateway.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import platform
import socket
import statistics
import sys
import time
from collections.abc import Sequence
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results" / "simgateway.json"
TARGET_RATIO = 5.0


# ----------------------------------------------------------------------------- server process
def _serve(conn: Connection) -> None:
    asyncio.run(_serve_async(conn))


async def _serve_async(conn: Connection) -> None:
    from engine.broker.simgateway import GatewayConfig, SimGateway

    reply = b""

    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                header = await reader.readexactly(4)
                await reader.readexactly(int.from_bytes(header, "big"))
                writer.write(reply)
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    fast = SimGateway(
        GatewayConfig(port=0, symbols=("AAPL",), message_rate_limit=None, annual_vol=0.0)
    )
    paced = SimGateway(GatewayConfig(port=0, symbols=("AAPL", "MSFT")))
    await fast.start()
    await paced.start()
    echo_server = await asyncio.start_server(echo, "127.0.0.1", 0)
    echo_port = int(echo_server.sockets[0].getsockname()[1])
    conn.send((fast.port, paced.port, echo_port))
    loop = asyncio.get_running_loop()
    while True:
        message = await loop.run_in_executor(None, conn.recv)
        if message == b"stop":
            break
        reply = message
        conn.send("ok")
    conn.send({"paced_pacing_errors": paced.core.stats.pacing_errors})
    echo_server.close()
    await fast.stop()
    await paced.stop()


# ----------------------------------------------------------------------------- raw client
class RawClient:
    """A minimal blocking TWS client: enough to hand-shake and read frames."""

    def __init__(self, port: int) -> None:
        from engine.broker.simgateway.framing import FrameDecoder

        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.frames = FrameDecoder()
        self.pending: list[bytes] = []
        self.bytes_in = 0

    def handshake(self, client_id: int) -> None:
        from engine.broker.simgateway.framing import encode_frame, prefix

        self.sock.sendall(b"API\0" + prefix(b"v157..178"))
        self.next_frame()
        self.sock.sendall(encode_frame([71, 2, client_id, ""]))
        while True:  # nextValidId, managedAccounts, farm status ×3
            fields = self.next_fields()
            if fields[:2] == ["4", "2"] and fields[3] == "2158":
                return

    def next_frame(self) -> bytes:
        while not self.pending:
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("server closed the connection")
            self.bytes_in += len(data)
            self.pending.extend(self.frames.feed(data))
        return self.pending.pop(0)

    def next_fields(self) -> list[str]:
        from engine.broker.simgateway.framing import split_fields

        return split_fields(self.next_frame())

    def close(self) -> None:
        self.sock.close()


def _order_frames(count: int) -> list[bytes]:
    """The exact bytes ib_async's Client.placeOrder sends, orders 1..count (BUY/SELL alternate)."""
    from ib_async import IB, MarketOrder, Stock
    from ib_async.client import Client

    ib = IB()
    client = ib.client
    sent: list[bytes] = []
    client.conn.sendMsg = sent.append  # type: ignore[method-assign]
    client.connState = Client.CONNECTED
    client._serverVersion = 178
    client.MaxRequests = 0
    contract = Stock("AAPL", "SMART", "USD", conId=0)
    try:
        for i in range(1, count + 1):
            client.placeOrder(i, contract, MarketOrder("BUY" if i % 2 else "SELL", 1))
    finally:
        client.connState = Client.DISCONNECTED
    return sent


def _percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


def _echo_round_trips(client: RawClient, frames: Sequence[bytes]) -> list[float]:
    """The same client loop against an echo server that answers with the recorded reply."""
    times = []
    for frame in frames:
        t0 = time.perf_counter()
        client.sock.sendall(frame)
        _read_until_filled(client)
        times.append(time.perf_counter() - t0)
    return times


def _read_until_filled(client: RawClient) -> bytes:
    """Read frames until an orderStatus Filled frame; returns the bytes read (framed)."""
    out = []
    while True:
        payload = client.next_frame()
        out.append(len(payload).to_bytes(4, "big") + payload)
        if payload.startswith(b"3\0") and payload.split(b"\0", 3)[2] == b"Filled":
            return b"".join(out)


async def _connect_times(port: int, n: int) -> list[float]:
    from ib_async import IB

    times = []
    for i in range(n):
        ib = IB()
        t0 = time.perf_counter()
        await ib.connectAsync("127.0.0.1", port, clientId=100 + i, timeout=5, raiseSyncErrors=True)
        times.append(time.perf_counter() - t0)
        ib.disconnect()
        await asyncio.sleep(0.02)
    return times


async def _sustained(port: int, seconds: float, rate: float = 45.0) -> dict[str, Any]:
    from ib_async import IB, MarketOrder, Stock

    ib = IB()
    await ib.connectAsync("127.0.0.1", port, clientId=7, timeout=5)
    codes: list[int] = []
    ib.errorEvent += lambda req_id, code, msg, contract: codes.append(code)
    [aapl] = await ib.qualifyContractsAsync(Stock("AAPL", "SMART", "USD"))
    await asyncio.sleep(1.1)  # a clean one-second window after connect and sync
    loop = asyncio.get_running_loop()
    start = loop.time()
    sent = 0
    orders = []
    while loop.time() - start < seconds:
        target = start + sent / rate
        delay = target - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        if sent % 9 == 0:
            orders.append(ib.placeOrder(aapl, MarketOrder("BUY" if sent % 2 else "SELL", 1)))
        else:
            ib.client.reqCurrentTime()
        sent += 1
    elapsed = loop.time() - start
    await asyncio.sleep(0.5)
    connected = ib.isConnected()
    filled = sum(1 for t in orders if t.orderStatus.status == "Filled")
    ib.disconnect()
    return {
        "seconds": round(elapsed, 2),
        "messages": sent,
        "rate": round(sent / elapsed, 2),
        "orders": len(orders),
        "orders_filled": filled,
        "error_100": codes.count(100),
        "connected_at_end": connected,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="200 orders, 10 s sustained")
    parser.add_argument("--orders", type=int, default=None)
    parser.add_argument("--sustain", type=float, default=None, help="seconds at 45 msg/s")
    args = parser.parse_args(argv)
    n_orders = args.orders or (200 if args.quick else 1000)
    sustain = args.sustain or (10.0 if args.quick else 60.0)
    n_connect = 5 if args.quick else 20

    parent, child = mp.get_context("spawn").Pipe()
    server = mp.get_context("spawn").Process(target=_serve, args=(child,), daemon=True)
    server.start()
    try:
        fast_port, paced_port, echo_port = parent.recv()
        frames = _order_frames(n_orders + 50)
        gw_client = RawClient(fast_port)
        gw_client.handshake(client_id=1)
        _, reply = _order_round_trips(gw_client, frames[:50])  # warm-up; records the reply
        reply_bytes = len(reply)
        parent.send(reply)
        parent.recv()
        echo_client = RawClient(echo_port)
        _echo_round_trips(echo_client, frames[:50])  # warm-up
        # alternate chunks so load drift on a shared machine hits both sides alike
        gateway: list[float] = []
        echo: list[float] = []
        chunk_ratios: list[float] = []
        chunk = max(10, n_orders // 10)
        for start in range(50, 50 + n_orders, chunk):
            part = frames[start : min(start + chunk, 50 + n_orders)]
            e = _echo_round_trips(echo_client, part)
            g, _ = _order_round_trips(gw_client, part)
            echo += e
            gateway += g
            chunk_ratios.append(statistics.median(g) / statistics.median(e))
        gw_client.close()
        echo_client.close()
        connect = asyncio.run(_connect_times(paced_port, n_connect))
        connect_loaded = asyncio.run(_connect_times(fast_port, 1))[0]
        sustained = asyncio.run(_sustained(paced_port, sustain))
        parent.send(b"stop")
        server_stats = parent.recv()
    finally:
        server.join(timeout=10)
        if server.is_alive():
            server.kill()

    us = 1e6
    p50_gw, p99_gw = _percentile(gateway, 50) * us, _percentile(gateway, 99) * us
    p50_echo, p99_echo = _percentile(echo, 50) * us, _percentile(echo, 99) * us
    ratio = p50_gw / p50_echo
    ok = ratio <= TARGET_RATIO and sustained["error_100"] == 0 and sustained["connected_at_end"]
    rows = [
        ("connect + startup sync (ib_async), ms", f"p50 {statistics.median(connect) * 1e3:.1f}", f"max {max(connect) * 1e3:.1f}", f"n={n_connect}"),
        (f"connect + startup sync after {n_orders + 50} orders, ms", f"{connect_loaded * 1e3:.1f}", "", "n=1"),
        ("placeOrder -> Filled, us", f"p50 {p50_gw:.0f}", f"p99 {p99_gw:.0f}", f"n={len(gateway)}"),
        (f"bare TCP echo ({len(frames[0])} B out, {reply_bytes} B back), us", f"p50 {p50_echo:.0f}", f"p99 {p99_echo:.0f}", f"n={len(echo)}"),
        ("ratio p50 gateway / echo", f"{ratio:.2f}x", f"target <= {TARGET_RATIO:.0f}x", "PASS" if ratio <= TARGET_RATIO else "FAIL"),
        (f"sustained {sustained['rate']} msg/s for {sustained['seconds']} s", f"error 100: {sustained['error_100']}", f"orders filled {sustained['orders_filled']}/{sustained['orders']}", "PASS" if sustained["error_100"] == 0 and sustained["connected_at_end"] else "FAIL"),
    ]  # fmt: skip
    print(f"{'measure':<58} {'':>14} {'':>18} {'':>8}")
    for name, a, b, c in rows:
        print(f"{name:<58} {a:>14} {b:>18} {c:>8}")
    result = {
        "benchmark": "simgateway",
        "quick": args.quick,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "connect_sync_ms": {
            "p50": statistics.median(connect) * 1e3,
            "max": max(connect) * 1e3,
            "n": n_connect,
            "after_orders_ms": connect_loaded * 1e3,
        },
        "order_round_trip_us": {"p50": p50_gw, "p99": p99_gw, "n": len(gateway)},
        "echo_round_trip_us": {"p50": p50_echo, "p99": p99_echo, "n": len(echo)},
        "frame_bytes": {"request": len(frames[0]), "reply_to_filled": reply_bytes},
        "ratio_p50": ratio,
        "chunk_ratios": chunk_ratios,
        "target_ratio": TARGET_RATIO,
        "sustained": sustained,
        "server": server_stats,
        "pass": ok,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {RESULTS}")
    return 0 if ok else 1


def _order_round_trips(client: RawClient, frames: Sequence[bytes]) -> tuple[list[float], bytes]:
    """Seconds from send to orderStatus Filled per order frame, and the framed bytes of the last
    reply up to and including Filled."""
    times: list[float] = []
    reply = b""
    for frame in frames:
        t0 = time.perf_counter()
        client.sock.sendall(frame)
        reply = _read_until_filled(client)
        times.append(time.perf_counter() - t0)
        while client.next_fields()[0] != "59":  # drain the commission report, untimed
            pass
    return times, reply


if __name__ == "__main__":
    sys.exit(main())
