"""Validated, atomic artifact I/O and SHA-256 helpers.

Writing: the model is dumped in JSON mode, validated against the *checked-in* JSON Schema (the file
users and other validators see), serialised deterministically and written atomically — a temp file
in the same directory (named ``.<name>.<random>.tmp`` so listings ignore it), ``fsync``,
``os.replace``, then ``fsync`` of the directory. A crash at any moment leaves the old file or the new
one, never a torn one.

Reading: the file is parsed, validated against the JSON Schema and then by the model; every problem
is reported with the file, the field path and the offending value.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, overload

from pydantic import ValidationError

from artifacts.markdown import FrontMatterError, parse_markdown, render_markdown
from artifacts.models.base import ArtifactModel, ArtifactRef, ArtifactRow, MarkdownArtifactModel

if TYPE_CHECKING:
    from jsonschema.protocols import Validator

__all__ = [
    "TEMP_SUFFIX",
    "ArtifactError",
    "ArtifactIssue",
    "WrittenArtifact",
    "artifact_ref",
    "atomic_write_bytes",
    "atomic_write_text",
    "dump_artifact",
    "is_temp_file",
    "read_artifact",
    "read_csv_artifact",
    "read_markdown_artifact",
    "schema_for",
    "schema_issues",
    "sha256_bytes",
    "sha256_file",
    "write_artifact",
    "write_csv_artifact",
]

M = TypeVar("M", bound=ArtifactModel)
R = TypeVar("R", bound=ArtifactRow)

TEMP_PREFIX = "."
TEMP_SUFFIX = ".tmp"
SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"
_CHUNK = 1 << 20


# --------------------------------------------------------------------------------------------
# errors
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ArtifactIssue:
    """One problem: the file, the field path inside it (``summary.fill_rate``, ``rows[3].pnl``),
    what is wrong, and the offending value."""

    file: str
    path: str
    message: str
    value: Any = None

    def __str__(self) -> str:
        where = f"{self.file}: {self.path}" if self.path else self.file
        shown = "" if self.value is None else f" (value: {_short(self.value)})"
        return f"{where}: {self.message}{shown}"


class ArtifactError(Exception):
    """An artifact that cannot be written or read as valid; ``issues`` lists every problem."""

    def __init__(self, issues: Sequence[ArtifactIssue], *, summary: str | None = None) -> None:
        self.issues = tuple(issues)
        first = summary or (
            f"{self.issues[0].file}: invalid artifact" if self.issues else "invalid artifact"
        )
        lines = [first, *(f"  - {issue}" for issue in self.issues[:20])]
        if len(self.issues) > 20:
            lines.append(f"  … and {len(self.issues) - 20} more")
        super().__init__("\n".join(lines))


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _dotted(parts: Iterable[str | int]) -> str:
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


# --------------------------------------------------------------------------------------------
# hashing and atomic writes
# --------------------------------------------------------------------------------------------


def sha256_bytes(data: bytes) -> str:
    """Lower-case hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Lower-case hex SHA-256 of a file's bytes, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def is_temp_file(path: str | os.PathLike[str]) -> bool:
    """Whether a name is an in-flight (or crashed) atomic-write temp file that readers ignore."""
    name = Path(path).name
    return name.startswith(TEMP_PREFIX) and name.endswith(TEMP_SUFFIX)


def _fsync_dir(directory: Path) -> None:
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)
    try:
        fd = os.open(directory, flags)
    except OSError:  # e.g. Windows cannot open directories; nothing more we can do there
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes, *, mode: int = 0o644) -> Path:
    """Write ``data`` to ``path`` atomically and durably; create missing parent directories.

    A same-directory temp file ``.<name>.<random>.tmp`` is written, flushed and fsynced, then
    ``os.replace``\\ d over ``path`` and the directory is fsynced. Readers see the old content or the
    new, never a mix. On any error the temp file is removed and ``path`` is untouched.
    """
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    directory.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(
        dir=directory, prefix=f"{TEMP_PREFIX}{target.name}.", suffix=TEMP_SUFFIX
    )
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(OSError):
            os.chmod(tmp_name, mode)
        os.replace(tmp_name, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    _fsync_dir(directory)
    return target


def atomic_write_text(
    path: str | os.PathLike[str], text: str, *, encoding: str = "utf-8", mode: int = 0o644
) -> Path:
    """:func:`atomic_write_bytes` for text (UTF-8 by default, newlines written as given)."""
    return atomic_write_bytes(path, text.encode(encoding), mode=mode)


# --------------------------------------------------------------------------------------------
# schemas
# --------------------------------------------------------------------------------------------


def _validator_for_file(schema_path: str) -> Validator:
    path = Path(schema_path)
    try:
        stamp = path.stat().st_mtime_ns
    except FileNotFoundError:
        raise ArtifactError(
            [ArtifactIssue(str(path), "", "checked-in JSON Schema is missing")],
            summary=f"{path}: schema file missing; run `algotrade schemas export`",
        ) from None
    return _compiled_validator(schema_path, stamp)


@cache
def _compiled_validator(schema_path: str, mtime_ns: int) -> Validator:
    """Compiled once per schema file version (a re-export in the same process is picked up)."""
    from jsonschema import Draft202012Validator

    schema = json.loads(Path(schema_path).read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def schema_for(model_type: type[ArtifactModel] | type[ArtifactRow]) -> Path:
    """Path of the checked-in JSON Schema of an artifact model (or CSV row model)."""
    return SCHEMA_DIR / f"{model_type.schema_stem()}.schema.json"


def schema_issues(
    instance: Any, model_type: type[ArtifactModel] | type[ArtifactRow], *, file: str
) -> list[ArtifactIssue]:
    """Every JSON Schema violation of ``instance``, as issues naming ``file`` and the field path."""
    validator = _validator_for_file(str(schema_for(model_type)))
    from jsonschema.exceptions import best_match

    issues = []
    for error in sorted(validator.iter_errors(instance), key=lambda e: list(map(str, e.path))):
        if error.context:  # anyOf/oneOf: report the branch that came closest, not "any of"
            # A branch failing on "type" is the wrong branch (e.g. the null of an Optional);
            # the other branch's error says what is actually wrong with the value.
            relevant = [e for e in error.context if e.validator != "type"] or list(error.context)
            error = best_match(relevant) or error
        issues.append(
            ArtifactIssue(
                file=file,
                path=_dotted(error.absolute_path),
                message=f"schema: {error.message}"
                if len(error.message) < 200
                else f"schema: {error.validator} failed",
                value=None if error.validator == "required" else error.instance,
            )
        )
    return issues


def _model_issues(exc: ValidationError, *, file: str, prefix: str = "") -> list[ArtifactIssue]:
    issues = []
    for err in exc.errors(include_url=False):
        loc = _dotted(err["loc"])
        path = f"{prefix}{'.' if prefix and loc and not loc.startswith('[') else ''}{loc}"
        value = None if err["type"] == "missing" else err.get("input")
        if isinstance(value, dict):
            value = "a mapping"
        issues.append(ArtifactIssue(file=file, path=path, message=err["msg"], value=value))
    return issues


# --------------------------------------------------------------------------------------------
# writing
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WrittenArtifact:
    """What was written: where, the SHA-256 of the bytes, and how many bytes."""

    path: Path
    sha256: str
    bytes: int
    artifact_type: str | None = field(default=None)

    def ref(self, root: str | os.PathLike[str] | None = None) -> ArtifactRef:
        """An :class:`ArtifactRef` pinning this file (path relative to ``root`` when given)."""
        return ArtifactRef(
            name=self.path.name,
            path=_relative(self.path, root),
            sha256=self.sha256,
            bytes=self.bytes,
            artifact_type=self.artifact_type,
        )


def _relative(path: Path, root: str | os.PathLike[str] | None) -> str:
    if root is None:
        return path.as_posix()
    try:
        return path.resolve().relative_to(Path(root).resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def artifact_ref(
    path: str | os.PathLike[str], *, root: str | os.PathLike[str] | None = None
) -> ArtifactRef:
    """Pin an existing file by its SHA-256 and size (``artifact_type`` filled in for registered
    names). Raises ``OSError`` when the file cannot be read."""
    from artifacts.registry import spec_for_file

    target = Path(path)
    spec = spec_for_file(target)
    return ArtifactRef(
        name=target.name,
        path=_relative(target, root),
        sha256=sha256_file(target),
        bytes=target.stat().st_size,
        artifact_type=spec.artifact_type if spec else None,
    )


def _json_bytes(data: Any) -> bytes:
    return (json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n").encode()


def dump_artifact(model: ArtifactModel, *, body: str | None = None, file: str = "") -> bytes:
    """The exact bytes :func:`write_artifact` writes, after schema validation.

    Raises :class:`ArtifactError` when the model's JSON violates the checked-in schema (a bug in the
    caller or a stale schema — run ``algotrade schemas export``).
    """
    data = model.model_dump(mode="json")
    issues = schema_issues(data, type(model), file=file or model.FILE_NAME)
    if issues:
        raise ArtifactError(issues, summary=f"{file or model.FILE_NAME}: refused to write")
    if isinstance(model, MarkdownArtifactModel):
        text = body if body is not None else model.default_body()
        return render_markdown(data, text).encode()
    if body is not None:
        raise TypeError(f"{type(model).__name__} is a JSON artifact; it takes no Markdown body")
    return _json_bytes(data)


def write_artifact(
    path: str | os.PathLike[str], model: ArtifactModel, *, body: str | None = None
) -> WrittenArtifact:
    """Validate ``model`` against its JSON Schema, then write it atomically to ``path``.

    JSON artifacts are written as indented UTF-8 JSON; Markdown artifacts as YAML front matter
    (the model) plus ``body`` (default: ``model.default_body()``). Nothing is written — and an
    existing file is left untouched — when validation fails.

    Returns
    -------
    WrittenArtifact
        path, SHA-256 (hex) and size in bytes of what was written.
    """
    target = Path(path)
    data = dump_artifact(model, body=body, file=str(target))
    atomic_write_bytes(target, data)
    return WrittenArtifact(target, sha256_bytes(data), len(data), model.artifact_type)


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def write_csv_artifact(path: str | os.PathLike[str], rows: Sequence[R]) -> WrittenArtifact:
    """Write a CSV artifact (header = the row model's fields), each row schema-checked first.

    ``rows`` must all be of one :class:`ArtifactRow` type; an empty sequence needs
    :func:`write_csv_header_only`.
    """
    if not rows:
        raise ValueError("write_csv_artifact needs at least one row to know the row type")
    row_type = type(rows[0])
    return _write_csv(Path(path), row_type, rows)


def write_csv_header_only(path: str | os.PathLike[str], row_type: type[R]) -> WrittenArtifact:
    """A CSV artifact with its header and no rows (a session that produced no samples)."""
    return _write_csv(Path(path), row_type, ())


def _write_csv(target: Path, row_type: type[R], rows: Sequence[R]) -> WrittenArtifact:
    header = row_type.header()
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    issues: list[ArtifactIssue] = []
    for index, row in enumerate(rows):
        if type(row) is not row_type:
            raise TypeError(f"row {index} is {type(row).__name__}, expected {row_type.__name__}")
        data = row.model_dump(mode="json")
        for issue in schema_issues(data, row_type, file=str(target)):
            issues.append(
                ArtifactIssue(issue.file, f"rows[{index}].{issue.path}", issue.message, issue.value)
            )
        writer.writerow([_csv_cell(data[name]) for name in header])
    if issues:
        raise ArtifactError(issues, summary=f"{target}: refused to write")
    payload = buffer.getvalue().encode()
    atomic_write_bytes(target, payload)
    return WrittenArtifact(target, sha256_bytes(payload), len(payload), row_type.ARTIFACT_TYPE)


# --------------------------------------------------------------------------------------------
# reading
# --------------------------------------------------------------------------------------------


def _read_text(target: Path) -> str:
    try:
        raw = target.read_bytes()
    except FileNotFoundError:
        raise ArtifactError(
            [ArtifactIssue(str(target), "", "file not found")], summary=f"{target}: not found"
        ) from None
    except OSError as exc:
        raise ArtifactError(
            [ArtifactIssue(str(target), "", f"cannot read: {exc.strerror or exc}")]
        ) from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ArtifactError(
            [ArtifactIssue(str(target), "", f"not UTF-8 text (byte {exc.start})")]
        ) from None


def _resolve_type(target: Path, data: Any) -> type[ArtifactModel]:
    from artifacts.registry import model_for_content, model_for_file

    spec = model_for_file(target)
    if spec is not None and issubclass(spec, ArtifactModel):
        return spec
    by_content = model_for_content(data)
    if by_content is not None:
        return by_content
    raise ArtifactError(
        [
            ArtifactIssue(
                str(target),
                "artifact_type",
                "unknown artifact: neither the file name nor artifact_type names a known artifact",
                data.get("artifact_type") if isinstance(data, dict) else None,
            )
        ]
    )


def _parse(target: Path, text: str) -> tuple[Any, str | None]:
    """(data, markdown body or None) from the file's text."""
    if target.suffix.lower() in (".md", ".markdown"):
        try:
            return parse_markdown(text)
        except FrontMatterError as exc:
            raise ArtifactError([ArtifactIssue(str(target), "", str(exc))]) from None
    try:
        return json.loads(text), None
    except json.JSONDecodeError as exc:
        raise ArtifactError(
            [
                ArtifactIssue(
                    str(target),
                    "",
                    f"not valid JSON: {exc.msg} at line {exc.lineno} col {exc.colno}",
                )
            ]
        ) from None
    except RecursionError:
        raise ArtifactError([ArtifactIssue(str(target), "", "JSON nested too deeply")]) from None


def _validate(target: Path, data: Any, model_type: type[M]) -> M:
    file = str(target)
    if isinstance(data, dict):
        found, expected = data.get("schema_version"), model_type.current_schema_version()
        if found is not None and found != expected:
            raise ArtifactError(
                [
                    ArtifactIssue(
                        file,
                        "schema_version",
                        f"this algotrade reads {model_type.FILE_NAME} version {expected!r}; "
                        "the file was written for another version — regenerate it with this "
                        "version, or read it with the version that wrote it",
                        found,
                    )
                ],
                summary=f"{file}: unsupported schema_version",
            )
    issues = schema_issues(data, model_type, file=file)
    try:
        model = model_type.model_validate(data)
    except ValidationError as exc:
        model_issues = _model_issues(exc, file=file)
        seen = {(i.path, str(i.value)) for i in issues}
        issues.extend(i for i in model_issues if (i.path, str(i.value)) not in seen)
        raise ArtifactError(issues, summary=f"{file}: invalid {model_type.FILE_NAME}") from None
    if issues:
        raise ArtifactError(issues, summary=f"{file}: invalid {model_type.FILE_NAME}")
    return model


@overload
def read_artifact(path: str | os.PathLike[str], model_type: type[M]) -> M: ...
@overload
def read_artifact(path: str | os.PathLike[str], model_type: None = None) -> ArtifactModel: ...
def read_artifact(
    path: str | os.PathLike[str], model_type: type[ArtifactModel] | None = None
) -> ArtifactModel:
    """Read and validate a JSON or Markdown artifact (schema first, then the model).

    The model type comes from ``model_type``, else from the registry by file name, else from the
    file's ``artifact_type``. Raises :class:`ArtifactError` listing every issue.
    """
    model, _ = _read_with_body(Path(path), model_type)
    return model


@overload
def read_markdown_artifact(path: str | os.PathLike[str], model_type: type[M]) -> tuple[M, str]: ...
@overload
def read_markdown_artifact(
    path: str | os.PathLike[str], model_type: None = None
) -> tuple[ArtifactModel, str]: ...
def read_markdown_artifact(
    path: str | os.PathLike[str], model_type: type[ArtifactModel] | None = None
) -> tuple[ArtifactModel, str]:
    """Read a Markdown artifact: (validated front matter model, body)."""
    model, body = _read_with_body(Path(path), model_type)
    return model, body or ""


def _read_with_body(
    target: Path, model_type: type[ArtifactModel] | None
) -> tuple[ArtifactModel, str | None]:
    data, body = _parse(target, _read_text(target))
    resolved = model_type or _resolve_type(target, data)
    expects_md = issubclass(resolved, MarkdownArtifactModel)
    if expects_md != (body is not None):
        want = "Markdown with front matter" if expects_md else "JSON"
        raise ArtifactError(
            [ArtifactIssue(str(target), "", f"{resolved.FILE_NAME} must be {want}")]
        )
    return _validate(target, data, resolved), body


def read_csv_artifact(path: str | os.PathLike[str], row_type: type[R]) -> list[R]:
    """Read a CSV artifact: the header must equal the row model's fields; each row is validated
    (empty cell = null) by the JSON Schema and the model. Raises :class:`ArtifactError`."""
    target = Path(path)
    file = str(target)
    reader = csv.reader(io.StringIO(_read_text(target)))
    try:
        header = tuple(next(reader))
    except StopIteration:
        raise ArtifactError([ArtifactIssue(file, "", "empty CSV: no header row")]) from None
    expected = row_type.header()
    if header != expected:
        missing = [c for c in expected if c not in header]
        extra = [c for c in header if c not in expected]
        raise ArtifactError(
            [
                ArtifactIssue(
                    file,
                    "header",
                    f"columns differ from {row_type.FILE_NAME}: missing {missing}, unexpected {extra}"
                    if missing or extra
                    else "columns are in the wrong order",
                    ",".join(header),
                )
            ]
        )
    rows: list[R] = []
    issues: list[ArtifactIssue] = []
    for index, cells in enumerate(reader):
        line = index + 2
        if len(cells) != len(header):
            issues.append(
                ArtifactIssue(file, f"line {line}", f"{len(cells)} cells, expected {len(header)}")
            )
            continue
        raw = {
            name: (cell if cell != "" else None) for name, cell in zip(header, cells, strict=True)
        }
        try:
            row = row_type.model_validate(raw)
        except ValidationError as exc:
            issues.extend(_model_issues(exc, file=file, prefix=f"line {line}"))
            continue
        for issue in schema_issues(row.model_dump(mode="json"), row_type, file=file):
            issues.append(
                ArtifactIssue(file, f"line {line}.{issue.path}", issue.message, issue.value)
            )
        rows.append(row)
    if issues:
        raise ArtifactError(issues, summary=f"{file}: invalid {row_type.FILE_NAME}")
    return rows
