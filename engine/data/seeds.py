"""Random seeds for reproducibility: ``fixtures/seeds.yaml`` validated by its JSON Schema.

One named seed per consumer so that changing, say, the fill model's randomness never changes the
synthetic market. Each consumer builds its own ``numpy.random.Generator`` from its seed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from engine.data.assets import REPO_ROOT

DEFAULT_SEEDS_PATH = REPO_ROOT / "fixtures" / "seeds.yaml"
SEEDS_SCHEMA_PATH = REPO_ROOT / "fixtures" / "seeds.schema.json"
SEEDS_SCHEMA_ID = "https://algotrade.dev/schemas/fixtures/v1/seeds.schema.json"


def _seed(title: str, description: str) -> Any:
    return Field(ge=0, le=2**63 - 1, title=title, description=description)


class Seeds(BaseModel):
    """Named seeds (non-negative integers) for every random component."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal["1"] = Field("1", title="Schema version", description="Always 1.")
    market: int = _seed("Synthetic market", "Daily synthetic panel (market.seed default).")
    intraday: int = _seed("Intraday bars and ticks", "Intraday paths within a synthetic day.")
    broker_fills: int = _seed("Broker fills", "Simulated exchange: latency, partial fills.")
    sim_gateway: int = _seed("Simulated gateway", "Simulated IB gateway randomness.")
    paper_session: int = _seed("Paper session", "Paper-trading session scenario.")
    backtest: int = _seed("Backtest", "Sampling in the backtest (look-ahead check dates).")
    tests: int = _seed("Tests", "Fixtures of the test suite.")


class SeedsError(ValueError):
    """A seeds file that cannot be used; the message names the key, the value and the fix."""


def seeds_json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of ``fixtures/seeds.yaml``."""
    schema = Seeds.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = SEEDS_SCHEMA_ID
    return schema


def load_seeds(path: Path | str | None = None) -> Seeds:
    """Read and validate a seeds YAML file (default: the bundled ``fixtures/seeds.yaml``)."""
    import jsonschema
    import yaml

    file = Path(path) if path is not None else DEFAULT_SEEDS_PATH
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SeedsError(f"cannot read seeds file {file}: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise SeedsError(f"{file} is not valid YAML: {exc}") from exc
    schema = json.loads(SEEDS_SCHEMA_PATH.read_text(encoding="utf-8"))
    errors = sorted(
        jsonschema.Draft202012Validator(schema).iter_errors(data), key=lambda e: list(e.path)
    )
    if errors:
        err = errors[0]
        where = ".".join(str(p) for p in err.path) or "(top level)"
        raise SeedsError(
            f"{file}: {where}: {err.message}; seeds are non-negative integers under the keys "
            f"{list(schema['properties'])}"
        )
    return Seeds.model_validate(data)
