"""The live guard: may this command send orders to this account?

* Paper accounts: yes (emergency commands still ask for confirmation, handled by the CLI).
* Live accounts, emergency commands (cancel-all, flatten, rollback): yes, but only with an
  explicit live confirmation; without it: refused.
* Live accounts, any other order-sending command: only when a valid GO decision exists —
  ``GO_LIVE_DECISION_GATE.md`` reads and validates against its schema, says GO, every sign-off is
  valid, and every artifact it pinned still has the hash it pinned. The decision must also have
  been taken on the config now in force, and the required sign-offs must still be valid against
  it *today* (a sign-off goes stale when what it covered changes). Anything else — the file is
  absent, unreadable, invalid, NO-GO, an artifact or the config changed, a sign-off is stale or
  the current config was not given — refuses (fail closed).

Refusal maps to exit code 4 (REFUSED) in the CLI.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from engine.config import AppConfig

GO_DECISION_FILE = "GO_LIVE_DECISION_GATE.md"


@dataclass(frozen=True)
class GoDecisionStatus:
    """Whether a valid GO decision exists, and why not."""

    valid: bool
    reason: str
    path: Path
    stage: str | None = None


@dataclass(frozen=True)
class LiveGuardDecision:
    """The verdict for one command on one account."""

    allowed: bool
    reason: str
    trading_mode: Literal["paper", "live"]
    go: GoDecisionStatus | None = None


def go_decision_status(prelive_dir: Path, config: AppConfig | None = None) -> GoDecisionStatus:
    """Read and check ``GO_LIVE_DECISION_GATE.md`` under ``prelive_dir``; fail closed.

    Without ``config`` the decision cannot be checked against the config in force and is never
    valid.
    """
    path = Path(prelive_dir) / GO_DECISION_FILE
    if not path.exists():
        return GoDecisionStatus(False, f"no GO decision: {path} does not exist", path)
    try:
        from artifacts.io import read_markdown_artifact, sha256_file
        from artifacts.models.go_live_decision import GoLiveDecision

        model, _body = read_markdown_artifact(path, GoLiveDecision)
    except Exception as exc:  # any failure to read or validate refuses
        return GoDecisionStatus(False, f"GO decision {path} is invalid: {exc}", path)
    if not isinstance(model, GoLiveDecision):
        return GoDecisionStatus(False, f"{path} is not a go-live decision", path)
    if model.decision != "GO":
        return GoDecisionStatus(False, f"the go-live decision is {model.decision}", path)
    bad = [s.role for s in model.signoffs if not s.valid]
    if bad or not model.signoffs:
        return GoDecisionStatus(False, f"sign-offs not valid: {', '.join(bad) or 'none'}", path)
    for gate in model.gates:
        for ref in gate.artifacts:
            ref_path = Path(ref.path)
            if not ref_path.is_absolute():
                ref_path = Path(prelive_dir) / ref_path
            try:
                current = sha256_file(ref_path)
            except OSError:
                return GoDecisionStatus(
                    False, f"artifact {ref.path} pinned by the GO is missing", path
                )
            if current != ref.sha256:
                return GoDecisionStatus(
                    False, f"artifact {ref.path} changed since the GO decision (hash differs)", path
                )
    if config is None:
        return GoDecisionStatus(
            False, "the GO decision cannot be checked without the config in force", path
        )
    from gates.governance import check_signoffs, config_hash

    if model.config_hash != config_hash(config):
        return GoDecisionStatus(
            False,
            "the config changed since the GO decision (its hash differs); run the gates again",
            path,
        )
    stale = [
        f"{s.role}: {s.reason}" for s in check_signoffs(Path(prelive_dir), config) if not s.valid
    ]
    if stale:
        return GoDecisionStatus(False, "sign-offs no longer valid — " + "; ".join(stale), path)
    stage = model.capital_stage.name if model.capital_stage else None
    return GoDecisionStatus(True, "valid GO decision", path, stage)


def check_live_guard(
    *,
    trading_mode: Literal["paper", "live"],
    command: str,
    emergency: bool,
    live_confirmed: bool,
    prelive_dir: Path,
    config: AppConfig | None = None,
) -> LiveGuardDecision:
    """May ``command`` send orders on an account in ``trading_mode``?"""
    if trading_mode == "paper":
        return LiveGuardDecision(True, "paper account", "paper")
    if emergency:
        if live_confirmed:
            return LiveGuardDecision(True, f"{command} on a LIVE account, confirmed", "live")
        return LiveGuardDecision(
            False,
            f"{command} on a LIVE account needs explicit confirmation: pass --confirm-live "
            "<account id> (or type the account id when asked)",
            "live",
        )
    go = go_decision_status(prelive_dir, config)
    if go.valid:
        return LiveGuardDecision(True, f"live trading approved ({go.reason})", "live", go)
    return LiveGuardDecision(
        False,
        f"{command} refused on a LIVE account: {go.reason}. Run `algotrade go-live` to reach a "
        "GO decision first",
        "live",
        go,
    )
