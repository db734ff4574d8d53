"""``PRELIVE_VERIFICATION_LOG.json``: one entry per gate run, appended atomically.

Each entry records the verdict, the evidence, the thresholds used, the timestamps, the tool
version, the config hash, and the SHA-256 of every artifact the gate wrote and every input it read.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from artifacts.io import artifact_ref, read_artifact, sha256_file, write_artifact
from artifacts.models.base import ArtifactRef, tool_version
from artifacts.models.prelive_verification_log import GateLogEntry, PreliveVerificationLog
from gates.base import GateResult

LOG_FILE = PreliveVerificationLog.FILE_NAME


def new_run_id() -> str:
    return uuid.uuid4().hex[:12]


def load_log(out_dir: Path) -> PreliveVerificationLog | None:
    path = out_dir / LOG_FILE
    if not path.is_file():
        return None
    return read_artifact(path, PreliveVerificationLog)


def entry_for(result: GateResult, *, run_id: str, config_hash: str, out_dir: Path) -> GateLogEntry:
    inputs: list[ArtifactRef] = []
    for path in result.inputs:
        if path.is_file():
            inputs.append(artifact_ref(path.resolve(), root=out_dir))
    message = None
    failed = result.failed_conditions
    if result.error:
        message = f"error: {result.error}"
    elif failed:
        message = "; ".join(
            f"{e.condition}: measured {e.measured}, threshold {e.threshold}"
            + (f" — {e.detail}" if e.detail else "")
            for e in failed
        )
    return GateLogEntry(
        run_id=run_id,
        gate=result.number,
        name=result.name,
        verdict=result.verdict,
        evidence=result.evidence,
        thresholds=dict(result.thresholds),
        inputs=tuple(inputs),
        artifacts=result.artifacts,
        started_at=result.started,
        finished_at=result.finished,
        duration_seconds=result.seconds,
        tool_version=tool_version(),
        config_hash=config_hash,
        message=message,
    )


def append_entry(
    out_dir: Path, entry: GateLogEntry, *, clock: Callable[[], datetime]
) -> ArtifactRef:
    """Add ``entry`` to the log (created on first use); the file is rewritten atomically."""
    log = load_log(out_dir)
    if log is None:
        log = PreliveVerificationLog(
            generated_at=clock(),
            tool_version=tool_version(),
            config_hash=entry.config_hash,
            entries=(entry,),
        )
    else:
        log = log.appended(entry, generated_at=clock())
    written = write_artifact(out_dir / LOG_FILE, log)
    return written.ref(out_dir)


def changed_files(refs: tuple[ArtifactRef, ...], out_dir: Path) -> list[str]:
    """The files among ``refs`` that are missing or whose bytes no longer hash as recorded."""
    changed = []
    for ref in refs:
        path = Path(ref.path)
        if not path.is_absolute():
            path = out_dir / path
        if not path.is_file():
            changed.append(f"{ref.path} (missing)")
        elif sha256_file(path) != ref.sha256:
            changed.append(f"{ref.path} (SHA-256 differs)")
    return changed
