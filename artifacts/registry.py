"""Which file is which artifact: canonical file names → models, and detection for any file.

Detection looks at the file name first (``ACCOUNT_CONFIG.json``), then, for a ``.json`` or ``.md``
file with another name, at the ``artifact_type`` the file declares about itself.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from artifacts.models.account_config import AccountConfig
from artifacts.models.backtest_report import BacktestReport
from artifacts.models.base import ArtifactFormat, ArtifactModel, ArtifactRow
from artifacts.models.gate_reports import (
    ArtifactValidationReport,
    ImplementationTestReport,
    IntegrationFlow,
    InterfaceMap,
    TestInventory,
)
from artifacts.models.go_live_decision import GoLiveDecision
from artifacts.models.governance import GovernanceSignoffs
from artifacts.models.latency_baseline import LatencyBaseline
from artifacts.models.paper_trading_log import PaperTradingLog
from artifacts.models.paper_trading_metrics import PaperTradingMetricsRow
from artifacts.models.prelive_verification_log import PreliveVerificationLog
from artifacts.models.rollback_procedure import RollbackProcedure
from artifacts.models.rollback_report import RollbackReport

__all__ = [
    "ARTIFACTS",
    "ArtifactSpec",
    "model_for_content",
    "model_for_file",
    "spec_for_file",
    "spec_for_name",
]


@dataclass(frozen=True)
class ArtifactSpec:
    """One registered artifact: its canonical file name, model, format and who writes it."""

    file_name: str
    model: type[ArtifactModel] | type[ArtifactRow]
    format: ArtifactFormat
    written_by: str

    @property
    def artifact_type(self) -> str:
        if issubclass(self.model, ArtifactModel):
            return self.model.artifact_type_name()
        return self.model.ARTIFACT_TYPE


def _spec(model: type[ArtifactModel] | type[ArtifactRow], written_by: str) -> ArtifactSpec:
    return ArtifactSpec(model.FILE_NAME, model, model.FORMAT, written_by)


ARTIFACTS: tuple[ArtifactSpec, ...] = (
    _spec(BacktestReport, "algotrade backtest"),
    _spec(ArtifactValidationReport, "gate 1"),
    _spec(IntegrationFlow, "gate 2"),
    _spec(InterfaceMap, "gate 3"),
    _spec(ImplementationTestReport, "gate 4"),
    _spec(TestInventory, "gate 5"),
    _spec(AccountConfig, "gate 6 / algotrade probe-account"),
    _spec(PaperTradingLog, "gate 7 / algotrade paper-session"),
    _spec(PaperTradingMetricsRow, "gate 7 / algotrade paper-session"),
    _spec(LatencyBaseline, "algotrade paper-session --record-baseline"),
    _spec(GoLiveDecision, "gate 8 / algotrade go-live"),
    _spec(RollbackProcedure, "gate 8"),
    _spec(PreliveVerificationLog, "algotrade gate run (every gate)"),
    _spec(RollbackReport, "algotrade rollback / gate 8 rollback drill"),
    _spec(GovernanceSignoffs, "algotrade governance sign"),
)

_BY_NAME = {spec.file_name: spec for spec in ARTIFACTS}
_BY_TYPE = {
    spec.artifact_type: spec.model for spec in ARTIFACTS if issubclass(spec.model, ArtifactModel)
}


def spec_for_name(file_name: str) -> ArtifactSpec | None:
    """The registered artifact with this exact canonical file name."""
    return _BY_NAME.get(file_name)


def spec_for_file(path: str | os.PathLike[str]) -> ArtifactSpec | None:
    """The registered artifact a path is, by its file name (None for unknown names)."""
    return _BY_NAME.get(Path(path).name)


def model_for_file(path: str | os.PathLike[str]) -> type[ArtifactModel] | type[ArtifactRow] | None:
    spec = spec_for_file(path)
    return spec.model if spec else None


def model_for_content(data: Any) -> type[ArtifactModel] | None:
    """The model a parsed JSON document or front matter names in its ``artifact_type``."""
    if isinstance(data, dict):
        kind = data.get("artifact_type")
        if isinstance(kind, str):
            return _BY_TYPE.get(kind)
    return None
