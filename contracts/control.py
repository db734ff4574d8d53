"""Session control records: how the three planes coordinate when they run as separate processes.

Not a trading message (those are the five of :mod:`contracts.messages`): a control record says
what one plane has done — it is ready, it published bar ``k`` (and how many market events so far),
it marked the broker's market and sampled the account for bar ``k``, it decided bar ``k`` (and how
many intents so far), the orders of bar ``k`` are settled (and how many execution reports so far),
a kill switch halted the session, a plane is done. They travel on ``session_control``, one key (so
one partition and one order), and carry the session id so that planes of different sessions on
one cluster never act on each other's records. See :mod:`engine.planes.services`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from contracts.types import Identifier, NonNegativeInt, UtcTimestamp

PlaneName = Literal["data", "strategy", "order"]
ControlKind = Literal[
    "ready",
    "bar_published",
    "bar_marked",
    "bar_completed",
    "bar_settled",
    "halt",
    "plane_done",
]


class SessionControl(BaseModel):
    """One coordination record of a split paper session."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    record_type: Literal["session_control"] = Field(
        default="session_control", title="Record type", description="Always 'session_control'."
    )
    session_id: Identifier = Field(title="Session id", description="The paper session's id.")
    plane: PlaneName = Field(title="Plane", description="The plane that sent the record.")
    kind: ControlKind = Field(title="Kind", description="What the plane reports.")
    bar: int = Field(
        default=-1, ge=-1, title="Bar", description="Bar index of the session day; -1 for none."
    )
    count: NonNegativeInt = Field(
        default=0,
        title="Count",
        description=(
            "Cumulative messages the plane has published on its topic so far (market events, "
            "intents or execution reports)."
        ),
    )
    timestamp: UtcTimestamp = Field(title="Timestamp", description="Market time, ISO-8601 UTC.")
    detail: dict[str, JsonValue] = Field(
        default_factory=dict,
        title="Detail",
        description="Kind-specific facts, e.g. the starting net liquidation or a halt's reason.",
    )
