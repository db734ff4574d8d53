"""Commit points move past dead-lettered records (engine.bus.dead_offsets)."""

from __future__ import annotations

from engine.bus.dead_offsets import extend_commits, moves_past_dead, skip_dead


def test_skip_dead_passes_only_the_consecutive_dead_offsets() -> None:
    dead = {3, 4, 6}
    assert skip_dead(3, dead) == 5
    assert dead == {6}
    assert skip_dead(2, dead) == 2


def test_extend_commits_forgets_dead_offsets_below_the_commit_point() -> None:
    dead = {0: {1, 5, 6}, 1: {9}}
    out = extend_commits({0: 5, 1: 2}, lambda p: dead.get(p, set()))
    assert out == {0: 7, 1: 2}
    assert dead == {0: set(), 1: {9}}


def test_moves_past_dead_only_for_partitions_committed_onto_a_dead_record() -> None:
    dead = {0: {4, 5}, 1: {8}, 2: set()}
    moves = moves_past_dead(dead.items(), {0: 4, 1: 7, 2: 0}.__getitem__)
    assert moves == {0: 6}
    assert dead == {0: set(), 1: {8}, 2: set()}
