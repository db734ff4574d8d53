from __future__ import annotations

import pytest

from gates.selection import GateSelectionError, parse_gate_range


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1-8", [1, 2, 3, 4, 5, 6, 7, 8]),
        ("6", [6]),
        ("3-5", [3, 4, 5]),
        ("all", [1, 2, 3, 4, 5, 6, 7, 8]),
        ("5,1,3", [1, 3, 5]),
        (" 2-3, 3-4 ", [2, 3, 4]),
    ],
)
def test_ranges(text: str, expected: list[int]) -> None:
    assert parse_gate_range(text) == expected


@pytest.mark.parametrize(
    ("text", "why"), [("9", "no gate 9"), ("5-3", "backwards"), ("x", "'x'"), ("", "empty")]
)
def test_bad_ranges_say_why(text: str, why: str) -> None:
    with pytest.raises(GateSelectionError, match=why):
        parse_gate_range(text)
