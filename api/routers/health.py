"""``/healthz``."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import RuntimeDep
from api.schemas import HealthResponse

router = APIRouter(tags=["health"])


@router.get("/healthz", operation_id="healthz", response_model=HealthResponse)
def healthz(runtime: RuntimeDep) -> HealthResponse:
    return HealthResponse(
        status="ok", products=runtime.index.n_active, catalog_version=runtime.index.version or None
    )
