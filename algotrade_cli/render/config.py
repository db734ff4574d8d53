"""Rendering of ``config show``."""

from __future__ import annotations

from typing import Any

import yaml

from algotrade_cli.render import stdout_console


def render_config(data: dict[str, Any], *, fingerprint: str) -> None:
    console = stdout_console()
    console.print(f"# effective configuration (sha256 {fingerprint[:16]}…)", style="dim")
    console.print(yaml.safe_dump(data, sort_keys=False, allow_unicode=True).rstrip(), markup=False)
