"""Idempotent consumers: remember which keys (intent ids, execution ids) were already acted on.

The bus delivers at least once, so a record processed before a crash but not yet committed comes
back after the restart. A consumer that acts (places an order, books a fill) asks the guard first::

    if guard.first_time(str(intent.intent_id)):
        await act(intent)

With a ``path`` the guard is durable: each new key is appended to a line-per-key file (and fsync'd
when ``sync`` is True) before :meth:`IdempotencyGuard.first_time` returns, so the memory survives a
``kill -9``. A crash between marking and acting loses that one action rather than doubling it
(at most once per key); the order plane closes that gap by checking the broker's open orders and
executions for the intent id (``order_ref``) before placing.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path


class IdempotencyGuard:
    """A set of keys already acted on, optionally persisted to an append-only file."""

    def __init__(self, path: Path | None = None, *, sync: bool = True) -> None:
        self.path = path
        self._sync = sync
        self._keys: set[str] = set()
        self._fd: int | None = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.exists():
                data = path.read_bytes()
                complete, _, torn = data.rpartition(b"\n")
                self._keys.update(k.decode() for k in complete.split(b"\n") if k)
                if torn:  # a line cut by a crash: its key was never acknowledged
                    with open(path, "r+b") as fh:
                        fh.truncate(len(data) - len(torn))
            self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    @classmethod
    def from_keys(cls, keys: Iterable[str]) -> IdempotencyGuard:
        """An in-memory guard pre-loaded with ``keys`` (e.g. rebuilt from a replay)."""
        guard = cls()
        guard._keys.update(keys)
        return guard

    def __len__(self) -> int:
        return len(self._keys)

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def seen(self, key: str) -> bool:
        """Was ``key`` already marked?"""
        return key in self._keys

    def mark(self, key: str) -> None:
        """Remember ``key`` (durably when the guard has a file)."""
        if "\n" in key:
            raise ValueError(f"idempotency key {key!r} contains a newline; use an id without one")
        if key in self._keys:
            return
        if self._fd is not None:
            os.write(self._fd, key.encode() + b"\n")
            if self._sync:
                os.fsync(self._fd)
        self._keys.add(key)

    def first_time(self, key: str) -> bool:
        """True exactly once per key: marks it and tells the caller to act."""
        if key in self._keys:
            return False
        self.mark(key)
        return True

    def close(self) -> None:
        """Release the file."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
