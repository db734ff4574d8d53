"""Kill switches: levels, warnings, arming, the latch and its persistence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.config import KillSwitchConfig
from engine.risk.kill_switch import FileLatchStore, KillSwitchBank, MemoryLatchStore

T0 = datetime(2026, 1, 5, 16, 0, tzinfo=UTC)


def _bank(store: object | None = None) -> KillSwitchBank:
    return KillSwitchBank(KillSwitchConfig(), store=store)  # type: ignore[arg-type]


@pytest.mark.unit
def test_quiet_inside_limits() -> None:
    bank = _bank()
    assert bank.evaluate(0.01, 0.02, 0.9, 100, T0) == []
    assert not bank.halted


@pytest.mark.unit
@pytest.mark.parametrize(
    ("args", "kind", "action"),
    [
        ((-0.051, 0.0, 0.9, 100), "pnl", "HALT_AND_FLATTEN"),
        ((0.0, 0.151, 0.9, 100), "dd", "HALT_AND_FLATTEN"),
        ((0.0, 0.0, 0.19, 100), "psr", "HALT_AND_INVESTIGATE"),
    ],
)
def test_each_switch_halts_with_its_action(
    args: tuple[float, float, float, int], kind: str, action: str
) -> None:
    bank = _bank()
    events = bank.evaluate(*args, T0)
    halts = [e for e in events if e.level == "HALT"]
    assert [(e.kind, e.action) for e in halts] == [(kind, action)]
    assert bank.halted and bank.halt_event is not None and bank.halt_event.kind == kind


@pytest.mark.unit
def test_warnings_fire_once_on_entry_and_rearm() -> None:
    bank = _bank()
    first = bank.evaluate(-0.031, 0.101, 0.29, 100, T0)
    assert sorted(e.kind for e in first) == ["dd", "pnl", "psr"]
    assert all(e.level == "WARN" and e.action is None for e in first)
    assert bank.evaluate(-0.035, 0.12, 0.25, 100, T0) == []  # still inside: no repeat
    assert bank.evaluate(0.0, 0.0, 0.9, 100, T0) == []  # back out
    assert [e.kind for e in bank.evaluate(-0.04, 0.0, 0.9, 100, T0)] == ["pnl"]
    assert not bank.halted


@pytest.mark.unit
def test_psr_switch_armed_only_after_min_sample() -> None:
    bank = _bank()
    assert bank.evaluate(0.0, 0.0, 0.01, 59, T0) == []
    assert [e.kind for e in bank.evaluate(0.0, 0.0, 0.01, 60, T0)] == ["psr"]


@pytest.mark.unit
def test_flatten_outranks_investigate_on_the_same_bar() -> None:
    bank = _bank()
    bank.evaluate(-0.10, 0.2, 0.01, 100, T0)
    assert bank.halt_event is not None and bank.halt_event.action == "HALT_AND_FLATTEN"


@pytest.mark.unit
def test_latch_survives_a_restart_until_explicit_reset(tmp_path: Path) -> None:
    path = tmp_path / "state" / "kill_switch.json"
    bank = _bank(FileLatchStore(path))
    bank.evaluate(-0.06, 0.0, 0.9, 100, T0)
    assert path.exists()
    restarted = _bank(FileLatchStore(path))
    assert restarted.halted
    assert restarted.halt_event is not None and restarted.halt_event.kind == "pnl"
    assert restarted.evaluate(0.5, 0.0, 1.0, 100, T0) == []
    with pytest.raises(ValueError, match="'by'"):
        restarted.reset("", "ok", T0)
    restarted.reset("Risk Officer", "loss understood, limits reviewed", T0)
    again = _bank(FileLatchStore(path))
    assert not again.halted
    assert again.state.last_reset is not None and again.state.last_reset["by"] == "Risk Officer"
    assert not list(path.parent.glob(".*.tmp"))  # atomic write leaves no temp files


@pytest.mark.unit
def test_corrupt_latch_file_fails_safe(tmp_path: Path) -> None:
    path = tmp_path / "kill_switch.json"
    path.write_text("{not json")
    bank = _bank(FileLatchStore(path))
    assert bank.halted
    assert bank.halt_event is not None and "unreadable" in bank.halt_event.message


_obs = st.tuples(
    st.floats(-0.5, 0.5, allow_nan=False),
    st.floats(0.0, 0.9, allow_nan=False),
    st.one_of(st.floats(0.0, 1.0), st.just(float("nan"))),
    st.integers(0, 500),
)


@pytest.mark.property
@settings(max_examples=200, deadline=None)
@given(st.lists(_obs, max_size=20), st.lists(_obs, max_size=30))
def test_a_tripped_switch_stays_tripped_whatever_comes_next(
    before: list[tuple[float, float, float, int]], after: list[tuple[float, float, float, int]]
) -> None:
    store = MemoryLatchStore()
    bank = _bank(store)
    for i, obs in enumerate(before):
        bank.evaluate(*obs, T0 + timedelta(days=i))
    bank.evaluate(-0.2, 0.5, 0.0, 1000, T0)  # trips pnl and dd (and psr)
    assert bank.halted
    halt = bank.halt_event
    for i, obs in enumerate(after):
        assert bank.evaluate(*obs, T0 + timedelta(days=100 + i)) == []
        assert bank.halted and bank.halt_event == halt
    assert _bank(store).halted  # and a fresh bank on the same store too
