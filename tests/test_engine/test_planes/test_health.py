"""The /health, /ready and /metrics endpoints over a real loopback socket."""

from __future__ import annotations

import asyncio

import pytest

from engine.planes.health import HealthServer
from engine.planes.metrics import SessionMetrics


async def get(port: int, path: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"{method} {path} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
    await writer.drain()
    data = await reader.read()
    writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers, body


@pytest.mark.integration
def test_endpoints_answer_on_loopback() -> None:
    metrics = SessionMetrics()
    metrics.pnl_current.set(-0.01)
    broker_ready = {"value": False}

    async def scenario() -> None:
        server = HealthServer(
            metrics.render,
            {"bus": lambda: True, "broker": lambda: broker_ready["value"]},
            port=0,
        )
        async with server:
            assert server.host == "127.0.0.1"
            port = server.port
            status, _, body = await get(port, "/health")
            assert (status, body) == (200, b'{"status": "ok"}')
            status, _, body = await get(port, "/ready")
            assert status == 503 and b'"broker": false' in body and b'"bus": true' in body
            broker_ready["value"] = True
            status, _, body = await get(port, "/ready")
            assert status == 200 and b'"ready": true' in body
            status, headers, body = await get(port, "/metrics")
            assert status == 200 and headers["Content-Type"].startswith("text/plain; version=0.0.4")
            assert b"pnl_current -0.01" in body
            status, headers, body = await get(port, "/metrics", "HEAD")
            assert status == 200 and body == b"" and int(headers["Content-Length"]) > 0
            assert (await get(port, "/nope"))[0] == 404
            assert (await get(port, "/health", "POST"))[0] == 405

    asyncio.run(scenario())


@pytest.mark.unit
def test_a_failing_check_means_not_ready() -> None:
    def broken() -> bool:
        raise RuntimeError("broker gone")

    server = HealthServer(lambda: b"", {"broker": broken})
    assert server.readiness() == (False, {"broker": False})
    assert server.respond("GET", "/ready?verbose=1")[0] == 503
