"""Global options shared by every command, and the one error handler commands run inside."""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec

import typer

from algotrade_cli.exit_codes import ExitCode

if TYPE_CHECKING:
    from engine.config import AppConfig

P = ParamSpec("P")


@dataclass
class AppState:
    """What the global options chose; the config is loaded once, on first use."""

    config_path: Path | None = None
    json_output: bool = False
    verbosity: int = 0  # -1 quiet, 0 normal, 1 verbose
    environ: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    _config: AppConfig | None = None

    def config(self) -> AppConfig:
        if self._config is None:
            from engine.config import load_config

            path = self.config_path
            if path is None and self.environ.get("ALGOTRADE_CONFIG"):
                path = Path(self.environ["ALGOTRADE_CONFIG"])
            self._config = load_config(path, self.environ)
        return self._config


def get_state(ctx: typer.Context) -> AppState:
    root = ctx.find_root()
    if not isinstance(root.obj, AppState):
        root.obj = AppState()
    return root.obj


def print_json(payload: Any) -> None:
    """Machine-readable output: stdout alone, one JSON document."""
    sys.stdout.write(json.dumps(payload, indent=2, sort_keys=False, default=str) + "\n")
    sys.stdout.flush()


def eprint(message: str) -> None:
    sys.stderr.write(message.rstrip("\n") + "\n")


def not_available(command: str, what: str) -> int:
    """Commands whose implementation has not landed say so plainly and exit 70."""
    eprint(
        f"algotrade {command}: not available yet — {what} is not implemented in this version. "
        "Nothing was done."
    )
    return int(ExitCode.INTERNAL)


def guarded(fn: Callable[P, int]) -> Callable[P, int]:
    """Run a command inside the one error handler: expected failures become exit codes."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> int:
        from engine.bus.protocol import BusUnavailable
        from engine.config import ConfigError

        try:
            code = fn(*args, **kwargs)
        except ConfigError as exc:
            eprint(f"error: {exc}")
            code = int(ExitCode.USAGE)
        except BusUnavailable as exc:
            eprint(f"error: the message bus is unavailable: {exc}")
            code = int(ExitCode.UNREACHABLE)
        except KeyboardInterrupt:
            eprint("interrupted")
            code = int(ExitCode.INTERRUPTED)
        except (typer.Exit, typer.Abort):
            raise
        except Exception as exc:
            if os.environ.get("ALGOTRADE_DEBUG") or _verbose(args, kwargs):
                import traceback

                traceback.print_exc()
            eprint(
                f"internal error: {type(exc).__name__}: {exc}\n"
                "This is a bug; rerun with --verbose for the traceback and report it."
            )
            code = int(ExitCode.INTERNAL)
        raise typer.Exit(code=int(code))

    return wrapper


def _verbose(args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    for value in (*args, *kwargs.values()):
        if isinstance(value, typer.Context):
            return get_state(value).verbosity > 0
    return False
