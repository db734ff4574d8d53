"""The ``algotrade`` command line: parse, call one core function, write, render, exit code."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("algotrade")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+source"
