"""Where gates write: every artifact goes to the run's output directory, validated and atomic."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from artifacts.io import artifact_ref, write_artifact, write_csv_artifact
from artifacts.models.base import ArtifactModel, ArtifactRef, ArtifactRow
from gates.base import GateContext


def write_report(ctx: GateContext, model: ArtifactModel, *, name: str | None = None) -> ArtifactRef:
    """Validate ``model`` against its schema and write it atomically to ``out_dir``."""
    written = write_artifact(ctx.out_dir / (name or model.FILE_NAME), model)
    return written.ref(ctx.out_dir)


def write_rows(ctx: GateContext, rows: Sequence[ArtifactRow]) -> ArtifactRef:
    written = write_csv_artifact(ctx.out_dir / rows[0].FILE_NAME, rows)
    return written.ref(ctx.out_dir)


def pin(ctx: GateContext, path: Path) -> ArtifactRef:
    """An existing file pinned by hash, its path relative to ``out_dir`` when inside it."""
    return artifact_ref(path, root=ctx.out_dir)
