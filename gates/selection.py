"""Which gates a ``gate run`` argument names: ``1-8``, ``6``, ``3-5``, ``1,3,5``, ``all``."""

from __future__ import annotations

GATE_NUMBERS = tuple(range(1, 9))


class GateSelectionError(ValueError):
    """A gate range that cannot be understood; the message shows accepted forms."""


def parse_gate_range(text: str, available: tuple[int, ...] = GATE_NUMBERS) -> list[int]:
    """Resolve a range expression to gate numbers in ascending order, each once.

    >>> parse_gate_range("3-5")
    [3, 4, 5]
    """
    spec = text.strip().lower()
    if spec in ("all", "*"):
        return list(available)
    if not spec:
        raise GateSelectionError(_hint(text, "it is empty"))
    chosen: set[int] = set()
    for part in spec.split(","):
        part = part.strip()
        if "-" in part:
            lo_text, _, hi_text = part.partition("-")
            lo, hi = _number(lo_text, text), _number(hi_text, text)
            if lo > hi:
                raise GateSelectionError(_hint(text, f"{lo}-{hi} runs backwards"))
            chosen.update(range(lo, hi + 1))
        else:
            chosen.add(_number(part, text))
    unknown = sorted(chosen - set(available))
    if unknown:
        raise GateSelectionError(_hint(text, f"no gate {unknown[0]}; gates are 1-{max(available)}"))
    return sorted(chosen)


def _number(part: str, original: str) -> int:
    try:
        return int(part.strip())
    except ValueError:
        raise GateSelectionError(
            _hint(original, f"{part.strip()!r} is not a gate number")
        ) from None


def _hint(original: str, why: str) -> str:
    return f"cannot read gate range {original!r}: {why}. Use e.g. 1-8, 6, 3-5, 1,3,5 or all."
