"""Golden positive and negative example files for every artifact, parametrised from the listing.

``tests/data/artifacts/positive/<case>/<FILE>`` must read back valid (schema + model) and equal, byte
for byte, what the builders in ``examples.py`` write. ``negative/<case>/<FILE>`` must be refused;
``negative/<case>/EXPECT.txt`` holds the field path the error must name (line 1, empty = the file
itself) and a fragment of the message (line 2).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from artifacts.io import (
    ArtifactError,
    dump_artifact,
    read_artifact,
    read_csv_artifact,
)
from artifacts.models.base import ArtifactRow
from artifacts.registry import ARTIFACTS, spec_for_file
from tests.test_artifacts.examples import POSITIVE, POSITIVE_ROWS, ROW_TYPES

DATA = Path(__file__).resolve().parents[1] / "data" / "artifacts"
POSITIVE_FILES = sorted((DATA / "positive").glob("*/*"))
NEGATIVE_CASES = sorted(p for p in (DATA / "negative").iterdir() if p.is_dir())


def _id(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


def test_corpus_covers_every_registered_artifact() -> None:
    positive = {p.name for p in POSITIVE_FILES}
    negative = {p.name for case in NEGATIVE_CASES for p in case.iterdir() if p.name != "EXPECT.txt"}
    for spec in ARTIFACTS:
        assert spec.file_name in positive, f"no positive example of {spec.file_name}"
        assert spec.file_name in negative, f"no negative example of {spec.file_name}"


@pytest.mark.parametrize("path", POSITIVE_FILES, ids=_id)
def test_positive_example_is_valid(path: Path) -> None:
    spec = spec_for_file(path)
    assert spec is not None
    if issubclass(spec.model, ArtifactRow):
        rows = read_csv_artifact(path, spec.model)
        assert rows == POSITIVE_ROWS[path.parent.name][path.name]()
        return
    model = read_artifact(path)
    assert type(model) is spec.model
    expected = POSITIVE[path.parent.name][path.name]()
    assert model == expected
    # golden bytes: the serialised form is part of the contract
    assert dump_artifact(expected) == path.read_bytes(), (
        f"{path} differs from what the model writes now; if the change is intended, regenerate "
        "the positive corpus and check docs/artifacts.md's versioning rules"
    )


@pytest.mark.parametrize("case", NEGATIVE_CASES, ids=lambda p: p.name)
def test_negative_example_is_refused_naming_the_field(case: Path) -> None:
    files = [p for p in case.iterdir() if p.name != "EXPECT.txt"]
    assert len(files) == 1, f"{case} must hold one artifact file and EXPECT.txt"
    path = files[0]
    expected_path, expected_message = (case / "EXPECT.txt").read_text().split("\n")[:2]
    spec = spec_for_file(path)
    assert spec is not None
    with pytest.raises(ArtifactError) as info:
        if issubclass(spec.model, ArtifactRow):
            read_csv_artifact(path, ROW_TYPES[path.name])
        else:
            read_artifact(path)
    error = info.value
    assert all(issue.file == str(path) for issue in error.issues)
    assert any(issue.path == expected_path for issue in error.issues), (
        f"expected an issue at {expected_path!r}, got {[i.path for i in error.issues]}"
    )
    assert expected_message in str(error), str(error)
