"""Markdown artifacts: a YAML front matter block (the machine-readable part) followed by the body.

::

    ---
    schema_version: '1'
    artifact_type: go_live_decision
    ...
    ---
    # Go-live decision
    ...

The front matter is the artifact model dumped in JSON mode and written as YAML; it is validated
against the artifact's JSON Schema exactly like a JSON artifact. The body is for people and is not
parsed back.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import yaml
from pydantic import BaseModel

__all__ = [
    "FrontMatterError",
    "dump_front_matter",
    "md_escape",
    "md_table",
    "parse_markdown",
    "render_markdown",
]

DELIMITER = "---"


class FrontMatterError(ValueError):
    """The text has no well-formed front matter block; the message says what is wrong."""


class _NoTimestampLoader(yaml.SafeLoader):
    """SafeLoader that keeps ISO timestamps as strings (JSON Schema expects strings)."""


_NoTimestampLoader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def dump_front_matter(data: dict[str, Any]) -> str:
    """YAML text of a JSON-compatible mapping, keys in their given order.

    Unicode is written as is for readability, unless that would not read back identically
    (PyYAML emits some line-break characters such as U+0085 unescaped); then everything non-ASCII
    is escaped.
    """
    text = yaml.safe_dump(
        data, sort_keys=False, allow_unicode=True, default_flow_style=False, width=100
    )
    if not text.isascii():
        try:
            readable = yaml.load(text, Loader=_NoTimestampLoader) == data
        except yaml.YAMLError:
            readable = False
        if not readable:
            text = yaml.safe_dump(
                data, sort_keys=False, allow_unicode=False, default_flow_style=False, width=100
            )
    return text


def render_markdown(model: BaseModel | dict[str, Any], body: str) -> str:
    """``---\\n<front matter YAML>---\\n<body>``; the body is kept byte for byte."""
    data = model.model_dump(mode="json") if isinstance(model, BaseModel) else model
    return f"{DELIMITER}\n{dump_front_matter(data)}{DELIMITER}\n{body}"


def parse_markdown(text: str) -> tuple[dict[str, Any], str]:
    """Split a Markdown artifact into its front matter mapping and its body.

    Raises :class:`FrontMatterError` naming the line when the block is missing, unterminated, not
    YAML, or not a mapping.
    """
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = text.split("\n")
    if not lines or lines[0].rstrip("\r") != DELIMITER:
        raise FrontMatterError(
            "missing front matter: the file must start with a line '---', then YAML, then '---'"
        )
    end = None
    for index in range(1, len(lines)):
        if lines[index].rstrip("\r") == DELIMITER:
            end = index
            break
    if end is None:
        raise FrontMatterError("unterminated front matter: no closing '---' line after line 1")
    yaml_text = "\n".join(lines[1:end])
    body = "\n".join(lines[end + 1 :])
    try:
        data = yaml.load(yaml_text, Loader=_NoTimestampLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 2}" if mark is not None else ""
        raise FrontMatterError(f"front matter is not valid YAML{where}: {exc}") from None
    if not isinstance(data, dict):
        raise FrontMatterError(
            f"front matter must be a mapping of fields, got {type(data).__name__}"
        )
    return data, body


def md_escape(value: object) -> str:
    """A value as a Markdown table cell (pipes escaped, newlines flattened, None as '—')."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    return str(value).replace("|", "\\|").replace("\n", " ")


def md_table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A GitHub-flavoured Markdown table (trailing newline included)."""
    lines = [
        "| " + " | ".join(md_escape(h) for h in headers) + " |",
        "|" + "|".join("---" for _ in headers) + "|",
    ]
    lines.extend("| " + " | ".join(md_escape(c) for c in row) + " |" for row in rows)
    return "\n".join(lines) + "\n"
