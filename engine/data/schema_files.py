"""Regenerate the checked-in schemas of the data files (``python -m engine.data.schema_files``).

``data/assets.schema.json`` and ``fixtures/seeds.schema.json`` are generated from the
:class:`~engine.data.assets.Asset` and :class:`~engine.data.seeds.Seeds` models; a test fails when
the checked-in files drift from the models.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from engine.data.assets import ASSETS_SCHEMA_PATH, assets_json_schema
from engine.data.seeds import SEEDS_SCHEMA_PATH, seeds_json_schema


def schema_text(schema: dict[str, Any]) -> str:
    """Canonical text of a schema file: sorted keys, two-space indent, trailing newline."""
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def data_schemas() -> dict[Path, str]:
    """Path → expected text of every generated data schema."""
    return {
        ASSETS_SCHEMA_PATH: schema_text(assets_json_schema()),
        SEEDS_SCHEMA_PATH: schema_text(seeds_json_schema()),
    }


def main() -> int:
    for path, text in data_schemas().items():
        path.write_text(text, encoding="utf-8")
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
