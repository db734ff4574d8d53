"""Run every benchmark in one command: ``python -m benchmarks.run_all [--quick] [--only NAME,...]``.

Each ``benchmarks/bench_<topic>.py`` exposes ``main(argv) -> int``, prints its own plain table (us vs
the named baseline, measured in the same run, quoted as ratios) and writes JSON to
``benchmarks/results/<topic>.json``. This runner calls them in turn and prints a closing summary.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import time
from pathlib import Path


def discover() -> list[str]:
    here = Path(__file__).parent
    return sorted(m.name for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="reduced sizes, for a smoke run")
    parser.add_argument("--only", default="", help="comma-separated topics, e.g. validate,bus")
    args = parser.parse_args(argv)
    wanted = {f"bench_{n.strip()}" for n in args.only.split(",") if n.strip()}
    names = [n for n in discover() if not wanted or n in wanted]
    results: list[tuple[str, int, float]] = []
    for name in names:
        print(f"\n=== {name} ===", flush=True)
        start = time.perf_counter()
        module = importlib.import_module(f"benchmarks.{name}")
        code = int(module.main(["--quick"] if args.quick else []))
        results.append((name, code, time.perf_counter() - start))
    print("\n=== summary ===")
    print(f"{'benchmark':<32} {'exit':>4} {'seconds':>9}")
    for name, code, seconds in results:
        print(f"{name:<32} {code:>4} {seconds:>9.1f}")
    print("JSON results: benchmarks/results/*.json")
    return 0 if all(code == 0 for _, code, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
