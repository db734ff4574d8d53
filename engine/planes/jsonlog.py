"""Structured logs: one JSON object per line, one file per plane (``logs/data_plane.log`` …).

Every line has ``ts`` (wall clock, UTC ISO-8601), ``plane``, ``event`` and the event's fields.
Writes are line-buffered appends; ``None`` as the directory keeps the lines in memory only
(tests read :attr:`PlaneLog.lines`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any


def _wall() -> datetime:
    return datetime.now(UTC)


class PlaneLog:
    """A JSON-lines logger for one plane."""

    def __init__(
        self,
        plane: str,
        directory: Path | None,
        *,
        now: Callable[[], datetime] = _wall,
        keep: int = 200,
    ) -> None:
        self.plane = plane
        self.now = now
        self.keep = keep
        self.lines: list[dict[str, Any]] = []
        self.counts: dict[str, int] = {}
        self.path: Path | None = None
        self._file: IO[str] | None = None
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)
            self.path = directory / f"{plane}.log"
            self._file = self.path.open("a", encoding="utf-8", buffering=1)

    def log(self, event: str, level: str = "info", **fields: Any) -> None:
        record: dict[str, Any] = {
            "ts": self.now().isoformat(),
            "plane": self.plane,
            "level": level,
            "event": event,
            **fields,
        }
        self.counts[event] = self.counts.get(event, 0) + 1
        self.lines.append(record)
        if len(self.lines) > self.keep:
            del self.lines[: len(self.lines) - self.keep]
        if self._file is not None:
            self._file.write(json.dumps(record, default=str, separators=(",", ":")) + "\n")

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
