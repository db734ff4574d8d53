"""All Rich output lives here, one module per command group."""

from __future__ import annotations

import os
import sys

from rich.console import Console


def stderr_console() -> Console:
    """Progress, logs and errors: stderr, no colour when NO_COLOR is set or not a TTY."""
    return Console(stderr=True, no_color=bool(os.environ.get("NO_COLOR")), highlight=False)


def stdout_console() -> Console:
    return Console(no_color=bool(os.environ.get("NO_COLOR")), highlight=False)


def live_allowed() -> bool:
    """Live displays only on a terminal and without NO_COLOR."""
    return sys.stderr.isatty() and not os.environ.get("NO_COLOR")
