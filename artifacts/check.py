"""Validate every artifact found in a directory tree — results as data, never an exception.

Files are recognised by their registered file name (``ACCOUNT_CONFIG.json``, …); a ``.json`` or
``.md`` file with another name counts when it declares a registered ``artifact_type``. Temp files of
interrupted atomic writes (``.<name>.<random>.tmp``) and hidden directories are ignored.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from artifacts.io import (
    ArtifactError,
    ArtifactIssue,
    is_temp_file,
    read_artifact,
    read_csv_artifact,
    sha256_file,
)
from artifacts.markdown import FrontMatterError, parse_markdown
from artifacts.models.base import ArtifactModel, ArtifactRow
from artifacts.registry import model_for_content, spec_for_file

__all__ = ["ArtifactCheck", "DirectoryCheck", "check_artifact", "check_directory"]


@dataclass(frozen=True)
class ArtifactCheck:
    """The verdict on one file."""

    path: Path
    artifact_type: str
    valid: bool
    sha256: str | None
    bytes: int | None
    issues: tuple[ArtifactIssue, ...] = ()


@dataclass(frozen=True)
class DirectoryCheck:
    """Every artifact checked under ``root``; ``passed`` when at least one was and all are valid."""

    root: Path
    results: tuple[ArtifactCheck, ...]
    ignored: tuple[Path, ...]
    temp_files: tuple[Path, ...] = ()
    """Leftovers of interrupted atomic writes (``.<name>.<random>.tmp``); safe to delete."""

    @property
    def invalid(self) -> tuple[ArtifactCheck, ...]:
        return tuple(r for r in self.results if not r.valid)

    @property
    def passed(self) -> bool:
        return bool(self.results) and not self.invalid


def check_artifact(
    path: Path, model_type: type[ArtifactModel] | type[ArtifactRow] | None = None
) -> ArtifactCheck:
    """Validate one artifact file (schema + model); never raises for a bad file."""
    model_type = model_type or _detect(path)
    if model_type is None:
        issue = ArtifactIssue(str(path), "", "not a registered artifact")
        return ArtifactCheck(path, "unknown", False, None, None, (issue,))
    kind = (
        model_type.artifact_type_name()
        if issubclass(model_type, ArtifactModel)
        else model_type.ARTIFACT_TYPE
    )
    try:
        if issubclass(model_type, ArtifactRow):
            read_csv_artifact(path, model_type)
        else:
            read_artifact(path, model_type)
    except ArtifactError as exc:
        return ArtifactCheck(path, kind, False, _hash(path), _size(path), exc.issues)
    return ArtifactCheck(path, kind, True, sha256_file(path), path.stat().st_size)


def check_directory(root: Path) -> DirectoryCheck:
    """Check every artifact under ``root`` (recursively, sorted by path)."""
    results: list[ArtifactCheck] = []
    ignored: list[Path] = []
    temp_files: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if is_temp_file(path):
                temp_files.append(path)
                continue
            model_type = _detect(path)
            if model_type is None:
                ignored.append(path)
                continue
            results.append(check_artifact(path, model_type))
    return DirectoryCheck(root, tuple(results), tuple(ignored), tuple(temp_files))


def _detect(path: Path) -> type[ArtifactModel] | type[ArtifactRow] | None:
    spec = spec_for_file(path)
    if spec is not None:
        return spec.model
    suffix = path.suffix.lower()
    if suffix not in (".json", ".md"):
        return None
    try:
        if path.stat().st_size > 64 * 1024 * 1024:
            return None
        text = path.read_text(encoding="utf-8")
        data = json.loads(text) if suffix == ".json" else parse_markdown(text)[0]
    except (OSError, UnicodeDecodeError, ValueError, FrontMatterError, RecursionError):
        return None
    return model_for_content(data)


def _hash(path: Path) -> str | None:
    try:
        return sha256_file(path)
    except OSError:
        return None


def _size(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except OSError:
        return None
