"""``algotrade validate-message``: verdicts, field paths, line numbers, DLQ, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from contracts.schema_export import SCHEMA_DIR
from tests.support.cli import run_cli
from tests.test_contracts.corpus import load_cases, strict_json

pytestmark = pytest.mark.integration

CASES = load_cases()
POSITIVE = [c for c in CASES if c.polarity == "positive"]
NEGATIVE = [c for c in CASES if c.polarity == "negative"]
DEAD_LETTER_SCHEMA = json.loads((SCHEMA_DIR / "dead_letter.schema.json").read_text())


def _ndjson(paths: list[Path]) -> str:
    return "".join(json.dumps(json.loads(p.read_text())) + "\n" for p in paths)


@pytest.fixture
def seed_file(tmp_path: Path) -> Path:
    path = tmp_path / "seed.ndjson"
    path.write_text(_ndjson([c.path for c in POSITIVE]))
    return path


def test_every_positive_example_is_valid(seed_file: Path) -> None:
    result = run_cli("validate-message", str(seed_file), "--json")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["valid"] == len(POSITIVE) and summary["invalid"] == 0 and summary["ok"]
    assert "OK: all" in result.stderr


def test_global_json_flag_works_too(seed_file: Path) -> None:
    result = run_cli("--json", "validate-message", str(seed_file))
    assert result.exit_code == 0
    assert json.loads(result.stdout)["format"] == "ndjson"


def _is_json_array(case: object) -> bool:
    ok, value = strict_json(case.path.read_bytes())  # type: ignore[attr-defined]
    return ok and isinstance(value, list)


# A JSON array is read by the CLI as a batch of messages, not as one (invalid) message; array
# inputs are covered by the batch tests above.
SINGLE_NEGATIVE = [c for c in NEGATIVE if not _is_json_array(c)]


@pytest.mark.parametrize("case", SINGLE_NEGATIVE, ids=[c.id for c in SINGLE_NEGATIVE])
def test_every_negative_example_is_invalid_with_its_field_and_dead_lettered(
    case: object, tmp_path: Path
) -> None:
    from tests.test_contracts.corpus import Case

    assert isinstance(case, Case)
    dlq = tmp_path / "dlq.ndjson"
    args = ["validate-message", str(case.path), "--dlq", str(dlq), "--json"]
    if case.message_type:
        args += ["--type", case.message_type]
    result = run_cli(*args)
    assert result.exit_code == 1, result.stderr
    assert "Traceback" not in result.stderr
    summary = json.loads(result.stdout)
    assert summary["invalid"] >= 1
    paths = {e["path"] for m in summary["invalid_messages"] for e in m["errors"]}
    assert case.expected_path in paths
    records = [json.loads(line) for line in dlq.read_text().splitlines()]
    assert len(records) == summary["invalid"]
    for record in records:
        jsonschema.validate(record, DEAD_LETTER_SCHEMA)
    assert case.expected_path in {e["path"] for r in records for e in r["errors"]}


def test_error_lines_name_source_line_type_and_field(tmp_path: Path) -> None:
    good = json.loads((POSITIVE[0].path).read_text())
    bad = dict(good, symbol="lower")
    path = tmp_path / "in.ndjson"
    path.write_text("\n".join(json.dumps(m) for m in (good, good, bad, good)) + "\n")
    result = run_cli("validate-message", str(path))
    assert result.exit_code == 1
    assert f"{path}:3: [{good['event_type']}] symbol: symbol must be" in result.stderr
    assert "(got 'lower')" in result.stderr
    assert "INVALID: 1 of 4" in result.stderr
    assert result.stdout == ""


def test_max_errors_caps_printing_but_counts_everything(tmp_path: Path) -> None:
    path = tmp_path / "bad.ndjson"
    path.write_text("not json\n" * 120)
    dlq = tmp_path / "dlq.ndjson"
    result = run_cli(
        "validate-message", str(path), "--max-errors", "5", "--dlq", str(dlq), "--json"
    )
    assert result.exit_code == 1
    summary = json.loads(result.stdout)
    assert summary["invalid"] == 120 and summary["errors_shown"] == 5
    assert result.stderr.count("malformed JSON") == 5
    assert "115 more invalid message(s) not shown" in result.stderr
    assert len(dlq.read_text().splitlines()) == 120


def test_dlq_appends_across_runs(tmp_path: Path) -> None:
    path = tmp_path / "bad.ndjson"
    path.write_text('{"event_type": "order_intent"}\n')
    dlq = tmp_path / "nested" / "dlq.ndjson"
    for _ in range(2):
        assert run_cli("validate-message", str(path), "--dlq", str(dlq)).exit_code == 1
    records = [json.loads(line) for line in dlq.read_text().splitlines()]
    assert len(records) == 2
    assert records[0]["topic"] == "order_intents" and records[0]["line"] == 1
    assert records[0]["source"] == str(path)


def test_stdin_and_array_input(seed_file: Path) -> None:
    messages = [json.loads(line) for line in seed_file.read_text().splitlines()]
    result = run_cli("validate-message", "-", "--json", stdin=json.dumps(messages, indent=1))
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["format"] == "array" and summary["valid"] == len(messages)
    # FILE defaults to stdin.
    assert run_cli("validate-message", stdin=seed_file.read_text()).exit_code == 0


def test_type_option_checks_every_message_against_that_type(seed_file: Path) -> None:
    result = run_cli("validate-message", str(seed_file), "--type", "bar_event", "--json")
    assert result.exit_code == 1
    summary = json.loads(result.stdout)
    assert set(summary["by_type"]) == {"bar_event"}
    assert summary["by_type"]["bar_event"]["valid"] == sum(
        1 for c in POSITIVE if c.kind == "bar_event"
    )


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["validate-message", "/nonexistent/file.ndjson"], "does not exist"),
        (["validate-message", "--type", "quote_event", "-"], "--type 'quote_event'"),
        (["validate-message", "--max-errors", "-1", "-"], "greater than or equal to 0"),
    ],
)
def test_usage_errors_exit_2(args: list[str], needle: str) -> None:
    result = run_cli(*args, stdin="")
    assert result.exit_code == 2
    assert needle in result.stderr


def test_directory_is_a_usage_error(tmp_path: Path) -> None:
    result = run_cli("validate-message", str(tmp_path))
    assert result.exit_code == 2 and "is a directory" in result.stderr


@pytest.mark.parametrize(
    "content",
    [b"", b"\n\n", bytes(range(256)) * 10, b'{"open": 1e400}', b"[" * 200_000, b"NaN\n"],
)
def test_hostile_files_are_invalid_never_a_traceback(content: bytes, tmp_path: Path) -> None:
    path = tmp_path / "hostile.bin"
    path.write_bytes(content)
    result = run_cli("validate-message", str(path), "--json")
    assert result.exit_code == 1
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert json.loads(result.stdout)["invalid"] >= 1


@pytest.mark.slow
def test_real_process_end_to_end(seed_file: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.ndjson"
    bad.write_text(seed_file.read_text() + '{"event_type": "bar_event", "open": -1}\n')
    ok = subprocess.run(
        [sys.executable, "-m", "algotrade_cli", "validate-message", str(seed_file), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["ok"] is True
    failed = subprocess.run(
        [sys.executable, "-m", "algotrade_cli", "validate-message", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert failed.returncode == 1 and "open" in failed.stderr
