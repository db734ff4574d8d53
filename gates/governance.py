"""Governance sign-offs: a named person in a role signs the exact config, strategy and artifacts.

A sign-off is bound to SHA-256 hashes of what was signed. It counts only while every one of those
hashes still matches: change the config, a strategy parameter or a signed artifact and the
sign-off goes stale, and the reason names what changed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from artifacts.io import read_artifact, sha256_file, write_artifact
from artifacts.models.base import ArtifactRef, tool_version
from artifacts.models.governance import BoundHashes, GovernanceSignoffs, SignOff
from engine.config import AppConfig

SIGNOFFS_FILE = GovernanceSignoffs.FILE_NAME
STRATEGY_SECTIONS = ("signals", "portfolio", "regime", "kill_switch", "costs", "backtest", "risk")


class GovernanceError(ValueError):
    """A sign-off request that cannot be honoured (unknown role, unreadable record)."""


def config_hash(config: AppConfig) -> str:
    """SHA-256 of the whole effective configuration."""
    return config.fingerprint()


def strategy_hash(config: AppConfig) -> str:
    """SHA-256 of the strategy parameters only: signals, portfolio, regime, risk and costs."""
    data = config.masked_dict(show_sensitive=True)
    payload = json.dumps({k: data[k] for k in STRATEGY_SECTIONS}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def artifact_ref(path: Path, root: Path) -> ArtifactRef:
    """Pin a file by hash, its path recorded relative to ``root`` where possible."""
    try:
        shown = str(path.relative_to(root))
    except ValueError:
        shown = str(path)
    return ArtifactRef(
        name=path.name, path=shown, sha256=sha256_file(path), bytes=path.stat().st_size
    )


def load_signoffs(directory: Path) -> GovernanceSignoffs | None:
    path = directory / SIGNOFFS_FILE
    if not path.exists():
        return None
    return read_artifact(path, GovernanceSignoffs)


def sign(
    directory: Path,
    *,
    role: str,
    name: str,
    config: AppConfig,
    clock: Callable[[], datetime],
    artifacts: Sequence[Path] = (),
    statement: str = "",
) -> SignOff:
    """Record a sign-off for ``role`` bound to the config, strategy and ``artifacts`` given."""
    known = set(config.gates.required_roles)
    if role not in known:
        raise GovernanceError(
            f"unknown role {role!r}; the config requires sign-offs from {', '.join(sorted(known))}"
        )
    if not name.strip():
        raise GovernanceError("a sign-off needs the signer's name (--name)")
    missing = [str(p) for p in artifacts if not p.is_file()]
    if missing:
        raise GovernanceError(f"cannot sign artifacts that do not exist: {', '.join(missing)}")
    signoff = SignOff(
        role=role,
        name=name.strip(),
        signed_at=clock(),
        statement=statement,
        bound=BoundHashes(
            config_hash=config_hash(config),
            strategy_hash=strategy_hash(config),
            artifacts=tuple(artifact_ref(p, directory) for p in artifacts),
        ),
    )
    existing = load_signoffs(directory)
    previous = existing.signoffs if existing else ()
    directory.mkdir(parents=True, exist_ok=True)
    write_artifact(
        directory / SIGNOFFS_FILE,
        GovernanceSignoffs(
            generated_at=clock(), tool_version=tool_version(), signoffs=(*previous, signoff)
        ),
    )
    return signoff


@dataclass(frozen=True)
class SignoffState:
    """Whether a required role's latest sign-off still counts, and if not, why."""

    role: str
    signoff: SignOff | None
    valid: bool
    reason: str | None

    def fields(self) -> dict[str, Any]:
        """Role, signer, time, validity and reason: the fields of a report's sign-off row."""
        return {
            "role": self.role,
            "name": self.signoff.name if self.signoff else None,
            "signed_at": self.signoff.signed_at if self.signoff else None,
            "valid": self.valid,
            "reason": self.reason,
        }


def check_signoffs(
    directory: Path,
    config: AppConfig,
    *,
    config_source: str = "the effective config",
) -> list[SignoffState]:
    """The state of every required role's sign-off against the current hashes."""
    record = load_signoffs(directory)
    latest = record.latest_by_role() if record else {}
    current_config, current_strategy = config_hash(config), strategy_hash(config)
    states: list[SignoffState] = []
    for role in config.gates.required_roles:
        signoff = latest.get(role)
        if signoff is None:
            states.append(
                SignoffState(
                    role,
                    None,
                    False,
                    f"no sign-off from {role}; run `algotrade governance sign --role {role} "
                    "--name NAME`",
                )
            )
            continue
        reason = _stale_reason(signoff, directory, current_config, current_strategy, config_source)
        states.append(SignoffState(role, signoff, reason is None, reason))
    return states


def _stale_reason(
    signoff: SignOff,
    directory: Path,
    current_config: str,
    current_strategy: str,
    config_source: str,
) -> str | None:
    signed = f"signed by {signoff.name} at {signoff.signed_at.isoformat()}"
    if signoff.bound.strategy_hash != current_strategy:
        return f"strategy parameters changed since {signed} ({config_source}); sign again"
    if signoff.bound.config_hash != current_config:
        return f"config changed since {signed} ({config_source}); sign again"
    for ref in signoff.bound.artifacts:
        path = Path(ref.path)
        if not path.is_absolute():
            path = directory / path
        if not path.is_file():
            return f"signed artifact {ref.path} is missing; it was {signed}"
        if sha256_file(path) != ref.sha256:
            return f"signed artifact {ref.path} changed since {signed}; review and sign again"
    return None
