"""``GET /v1/staff/at-risk``: live conversations the abandonment model says may end without an order.

Staff role.  A session is listed when it had a turn within the last ``minutes`` (default 30), has no
order, and its latest turn's risk (stored with the turn) is at or above the model's operating
threshold; riskiest first.  Without a trained model the list is empty and ``model`` is null.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.deps import RuntimeDep
from api.errors import ERROR_RESPONSES
from api.routers.staff import StaffDep
from assistant.behaviour import at_risk_sessions

router = APIRouter(prefix="/v1/staff", tags=["staff"], responses=ERROR_RESPONSES)


@router.get("/at-risk", operation_id="staff_at_risk_sessions")
def at_risk(
    runtime: RuntimeDep,
    user: StaffDep,
    minutes: Annotated[float, Query(gt=0, le=1440, description="activity within this many minutes")] = 30,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> dict[str, Any]:
    """``{"sessions": [{"session_id", "risk", "turns", "last_activity", "last_intent", "last_action",
    "last_message", "handoff"}], "threshold", "model", "minutes"}``."""
    model = runtime.abandonment
    if model is None:
        return {"sessions": [], "threshold": None, "model": None, "minutes": minutes}
    with runtime.db.session() as s:
        sessions = at_risk_sessions(s, threshold=model.threshold, minutes=minutes, limit=limit)
    return {
        "sessions": sessions,
        "threshold": round(model.threshold, 4),
        "model": model.version,
        "minutes": minutes,
    }
