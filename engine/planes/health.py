"""``/health``, ``/ready`` and ``/metrics`` over a tiny asyncio HTTP/1.1 server (loopback by default).

- ``GET /health`` → 200 ``{"status": "ok"}`` while the process serves requests (liveness);
- ``GET /ready`` → 200 when every readiness check passes (e.g. bus open, broker connected), else
  503; the body lists each check: ``{"ready": false, "checks": {"bus": true, "broker": false}}``;
- ``GET /metrics`` → the Prometheus text exposition.

Every response closes the connection; anything else is 404 (unknown path) or 405 (not GET/HEAD).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable, Mapping

ReadyCheck = Callable[[], bool]

_CONTENT_TYPE_METRICS = "text/plain; version=0.0.4; charset=utf-8"
_MAX_REQUEST_BYTES = 8192
_REASONS = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    503: "Service Unavailable",
}


class HealthServer:
    """Serves the three endpoints for one session or plane.

    Parameters
    ----------
    metrics
        Returns the Prometheus exposition bytes (e.g. ``SessionMetrics.render``).
    checks
        Readiness checks by name; a check that raises counts as not ready.
    host, port
        Bind address; ``127.0.0.1`` by default so nothing is exposed off the machine unless asked;
        port 0 picks a free port (read it back from :attr:`port` after :meth:`start`).
    """

    def __init__(
        self,
        metrics: Callable[[], bytes],
        checks: Mapping[str, ReadyCheck] | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 8080,
        timeout: float = 5.0,
    ) -> None:
        self.metrics = metrics
        self.checks = dict(checks or {})
        self.host = host
        self.port = port
        self.timeout = timeout
        self._server: asyncio.Server | None = None

    async def start(self) -> int:
        """Bind and start serving; returns the bound port."""
        self._server = await asyncio.start_server(self._handle, self.host, self.port)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self.port

    async def close(self) -> None:
        """Stop accepting and close the listening socket."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> HealthServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def readiness(self) -> tuple[bool, dict[str, bool]]:
        """Run every check: (all passed, per-check result)."""
        results: dict[str, bool] = {}
        for name, check in self.checks.items():
            try:
                results[name] = bool(check())
            except Exception:
                results[name] = False
        return all(results.values()), results

    def respond(self, method: str, path: str) -> tuple[int, str, bytes]:
        """(status, content type, body) for one request — the server's pure core."""
        if method not in ("GET", "HEAD"):
            return 405, "application/json", b'{"error": "only GET and HEAD are allowed"}'
        path = path.split("?", 1)[0]
        if path == "/health":
            return 200, "application/json", b'{"status": "ok"}'
        if path == "/ready":
            ready, results = self.readiness()
            body = json.dumps({"ready": ready, "checks": results}).encode()
            return (200 if ready else 503), "application/json", body
        if path == "/metrics":
            return 200, _CONTENT_TYPE_METRICS, self.metrics()
        return (
            404,
            "application/json",
            b'{"error": "unknown path; use /health, /ready or /metrics"}',
        )

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), self.timeout)
            if len(head) > _MAX_REQUEST_BYTES:
                raise ValueError("request head too large")
            parts = head.split(b"\r\n", 1)[0].decode("latin-1").split()
            if len(parts) != 3:
                raise ValueError("malformed request line")
            method, path = parts[0], parts[1]
            status, ctype, body = self.respond(method, path)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ValueError):
            method, status, ctype, body = (
                "GET",
                400,
                "application/json",
                b'{"error": "bad request"}',
            )
        except ConnectionError:
            writer.close()
            return
        header = (
            f"HTTP/1.1 {status} {_REASONS[status]}\r\n"
            f"Content-Type: {ctype}\r\nContent-Length: {len(body)}\r\n"
            "Cache-Control: no-store\r\nConnection: close\r\n\r\n"
        ).encode("latin-1")
        with contextlib.suppress(ConnectionError):
            writer.write(header if method == "HEAD" else header + body)
            await writer.drain()
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()
