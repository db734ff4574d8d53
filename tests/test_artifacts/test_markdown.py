"""Markdown artifacts: front matter round trip, body kept byte for byte, clear parse errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from artifacts.io import ArtifactError, read_artifact, read_markdown_artifact, write_artifact
from artifacts.markdown import FrontMatterError, md_table, parse_markdown, render_markdown
from tests.test_artifacts.examples import go_live_decision, rollback_procedure

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53), max_value=2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(min_size=1, max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)


@given(
    data=st.dictionaries(st.text(min_size=1, max_size=12), json_values, max_size=6),
    body=st.text(max_size=200),
)
def test_front_matter_round_trip(data: dict[str, object], body: str) -> None:
    parsed, parsed_body = parse_markdown(render_markdown(data, body))
    assert parsed == data
    assert parsed_body == body


def test_timestamps_and_dates_stay_strings() -> None:
    text = "---\nat: 2026-11-02T14:30:00Z\nday: 2026-11-02\nv: '1'\n---\n"
    data, _ = parse_markdown(text)
    assert data == {"at": "2026-11-02T14:30:00Z", "day": "2026-11-02", "v": "1"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("# no front matter\n", "missing front matter"),
        ("---\na: 1\n", "unterminated"),
        ("---\n- 1\n---\n", "must be a mapping"),
        ("---\na: [1\n---\n", "not valid YAML at line"),
    ],
)
def test_parse_errors(text: str, message: str) -> None:
    with pytest.raises(FrontMatterError, match=message):
        parse_markdown(text)


def test_write_markdown_artifact_with_default_and_custom_body(tmp_path: Path) -> None:
    model = go_live_decision()
    written = write_artifact(tmp_path / "GO_LIVE_DECISION_GATE.md", model)
    text = written.path.read_text()
    assert text.startswith("---\nschema_version: '1'\nartifact_type: go_live_decision\n")
    assert "# Go-live decision: **GO**" in text
    assert read_artifact(written.path) == model
    custom = write_artifact(tmp_path / "custom" / "GO_LIVE_DECISION_GATE.md", model, body="hi\n")
    again, body = read_markdown_artifact(custom.path)
    assert again == model and body == "hi\n"


def test_editing_the_body_does_not_invalidate_but_editing_front_matter_does(
    tmp_path: Path,
) -> None:
    path = write_artifact(tmp_path / "ROLLBACK_PROCEDURE.md", rollback_procedure()).path
    text = path.read_text()
    path.write_text(text + "\nA note added by a person.\n")
    assert read_artifact(path) == rollback_procedure()
    path.write_text(text.replace("target_seconds: 120.0", "target_seconds: -1"))
    with pytest.raises(ArtifactError) as info:
        read_artifact(path)
    assert any(i.path == "target_seconds" and i.value == -1 for i in info.value.issues)


def test_json_model_rejects_a_body(tmp_path: Path) -> None:
    from tests.test_artifacts.examples import account_config

    with pytest.raises(TypeError, match="takes no Markdown body"):
        write_artifact(tmp_path / "ACCOUNT_CONFIG.json", account_config(), body="x")


def test_markdown_file_must_have_front_matter_and_json_must_not(tmp_path: Path) -> None:
    from tests.test_artifacts.examples import account_config

    md = tmp_path / "renamed.md"
    md.write_text(render_markdown(account_config(), "body"))
    with pytest.raises(ArtifactError, match="must be JSON"):
        read_artifact(md)


def test_md_table_escapes_pipes_and_newlines() -> None:
    table = md_table(("a", "b"), [("x|y", "line1\nline2"), (None, True)])
    assert "x\\|y" in table and "line1 line2" in table and "| — | yes |" in table
