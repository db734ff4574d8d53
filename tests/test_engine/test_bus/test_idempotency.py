"""IdempotencyGuard: exactly-once decisions per key, durable across restarts."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.bus import IdempotencyGuard


@pytest.mark.unit
def test_first_time_is_true_once_per_key() -> None:
    guard = IdempotencyGuard()
    assert guard.first_time("a") and guard.first_time("b")
    assert not guard.first_time("a")
    assert "a" in guard and len(guard) == 2


@pytest.mark.unit
def test_durable_guard_survives_reopen_and_a_torn_line(tmp_path: Path) -> None:
    path = tmp_path / "keys"
    guard = IdempotencyGuard(path)
    for key in ("i-1", "i-2", "i-3"):
        assert guard.first_time(key)
    guard.close()
    with open(path, "ab") as fh:
        fh.write(b"i-4-torn")  # a write cut by a crash: never acknowledged
    guard = IdempotencyGuard(path)
    assert [guard.seen(k) for k in ("i-1", "i-2", "i-3", "i-4-torn")] == [True, True, True, False]
    assert guard.first_time("i-4")
    guard.close()
    assert path.read_text().splitlines() == ["i-1", "i-2", "i-3", "i-4"]


@pytest.mark.unit
def test_keys_with_newlines_are_refused() -> None:
    with pytest.raises(ValueError, match="newline"):
        IdempotencyGuard().mark("a\nb")


@pytest.mark.unit
def test_from_keys_preloads() -> None:
    guard = IdempotencyGuard.from_keys(["x", "y"])
    assert not guard.first_time("x") and guard.first_time("z")
