"""Exit codes are an interface: CI pipelines branch on them. Keep this table and the README in step."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0  # success / GO / all valid
    FAILED = 1  # a check, gate or validation failed / NO-GO
    USAGE = 2  # bad arguments or a bad config file
    UNREACHABLE = 3  # broker or service unreachable
    REFUSED = 4  # refused for safety (live trading not approved, no confirmation)
    KILL_SWITCH = 5  # a kill switch tripped
    INTERNAL = 70  # a bug, or a command not available yet
    INTERRUPTED = 130  # Ctrl-C


EXIT_CODES_HELP = (
    "Exit codes: 0 success/GO · 1 check, gate or validation failed/NO-GO · 2 usage error · "
    "3 broker or service unreachable · 4 refused for safety · 5 kill switch tripped · "
    "70 internal error or not available yet · 130 interrupted."
)
