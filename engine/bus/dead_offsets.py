"""Committing past dead-lettered records: the rule both consumers (embedded, Kafka) follow.

A record that failed validation on consume went to its dead-letter topic and is never delivered,
so a commit that stops right before it would hand it out again after a restart. Each consumer
keeps, per partition, the set of offsets it dead-lettered; these functions move a commit point
past the ones that follow it and forget them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping


def skip_dead(offset: int, dead: set[int]) -> int:
    """The first offset at or after ``offset`` that is not in ``dead``; the offsets skipped are
    removed from ``dead``."""
    while offset in dead:
        dead.discard(offset)
        offset += 1
    return offset


def extend_commits(
    offsets: Mapping[int, int], dead_of: Callable[[int], set[int]]
) -> dict[int, int]:
    """``{partition: next offset}`` with each offset moved past the dead-lettered records right
    after it; ``dead_of(partition)`` forgets every dead offset below the new commit point."""
    extended: dict[int, int] = {}
    for p, o in offsets.items():
        dead = dead_of(p)
        o = skip_dead(o, dead)
        for stale in [d for d in dead if d < o]:
            dead.discard(stale)
        extended[p] = o
    return extended


def moves_past_dead(
    dead: Iterable[tuple[int, set[int]]], committed: Callable[[int], int]
) -> dict[int, int]:
    """``{partition: new commit point}`` for the partitions whose committed offset
    (``committed(partition)``) sits on a dead-lettered record; the offsets passed are forgotten."""
    moves: dict[int, int] = {}
    for p, offsets in dead:
        if not offsets:
            continue
        start = committed(p)
        o = skip_dead(start, offsets)
        if o != start:
            moves[p] = o
    return moves
