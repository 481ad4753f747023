"""``/healthz`` and ``/metrics`` (Prometheus text format)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from api.deps import RuntimeDep
from api.schemas import HealthResponse

router = APIRouter(tags=["health"])


@router.get("/healthz", operation_id="healthz", response_model=HealthResponse)
def healthz(runtime: RuntimeDep) -> HealthResponse:
    return HealthResponse(
        status="ok", products=runtime.index.n_active, catalog_version=runtime.index.version or None
    )


@router.get(
    "/metrics",
    operation_id="metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus exposition format"}},
)
def metrics(runtime: RuntimeDep) -> Response:
    """Request latency histograms per route, turns by intent and action, NLU low-confidence turns,
    zero-result searches, per-stage turn latency and errors by code, for Prometheus to scrape."""
    from assistant.observability import CONTENT_TYPE_LATEST

    return Response(runtime.metrics.render(), media_type=CONTENT_TYPE_LATEST)
