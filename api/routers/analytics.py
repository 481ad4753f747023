"""``/v1/staff/analytics``: the funnel, intents, queries the catalog cannot answer, products, rates.

Staff role.  ``since`` / ``until`` take ISO 8601 or ``7d`` / ``24h`` / ``2w`` (default: the last 30
days); figures are for the sessions started in the range.  Each report also comes as CSV
(``?format=csv``) for a spreadsheet.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi import Path as PathParam
from fastapi.responses import PlainTextResponse

from api.deps import RuntimeDep
from api.errors import ERROR_RESPONSES
from api.routers.staff import StaffDep, parse_when
from assistant import analytics

router = APIRouter(prefix="/v1/staff/analytics", tags=["staff"], responses=ERROR_RESPONSES)

Since = Annotated[str | None, Query(max_length=64, description="ISO 8601 or 7d / 24h / 2w; default 30d")]
Until = Annotated[str | None, Query(max_length=64, description="ISO 8601 or 7d / 24h / 2w; default now")]
Top = Annotated[int, Query(ge=1, le=200, description="rows in each top-N list")]
Simulated = Annotated[bool, Query(description="include simulated shoppers' sessions (the demo's)")]
ReportName = Literal["summary", "funnel", "intents", "intent_trend", "queries", "zero_results", "products"]


def build(runtime: Any, since: str | None, until: str | None, top: int, simulated: bool) -> dict[str, Any]:
    rng = analytics.AnalyticsRange.of(parse_when(since, "since"), parse_when(until, "until"))
    with runtime.db.session() as s:
        return analytics.report(s, rng, top=top, simulated=simulated)


@router.get("", operation_id="staff_analytics")
def all_reports(
    runtime: RuntimeDep,
    user: StaffDep,
    since: Since = None,
    until: Until = None,
    top: Top = 20,
    simulated: Simulated = False,
) -> dict[str, Any]:
    """Every figure at once (what the analytics page draws)."""
    return build(runtime, since, until, top, simulated)


@router.get(
    "/{report}",
    operation_id="staff_analytics_report",
    responses={200: {"content": {"application/json": {}, "text/csv": {}}}},
)
def one_report(
    runtime: RuntimeDep,
    user: StaffDep,
    report: Annotated[ReportName, PathParam()],
    since: Since = None,
    until: Until = None,
    top: Top = 20,
    simulated: Simulated = False,
    format: Annotated[Literal["json", "csv"], Query()] = "json",
) -> Any:
    """One report; ``format=csv`` answers ``text/csv`` with a header row."""
    data = build(runtime, since, until, top, simulated)
    if format == "csv":
        return PlainTextResponse(
            analytics.to_csv(data, report),
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="shopassist-{report}.csv"'},
        )
    return {"since": data["since"], "until": data["until"], report: data[report]}


__all__ = ["router"]
