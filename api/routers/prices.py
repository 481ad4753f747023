"""Prices: ``GET /v1/products/{id}/price`` (advice + history) and price alerts."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter
from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict, Field

from api.deps import RuntimeDep
from api.errors import ERROR_RESPONSES
from api.schemas_commerce import PRODUCT_ID_PATTERN, SESSION_ID_PATTERN, ProductIdPath, SessionIdPath
from assistant.prices import cancel_alert, create_alert, list_alerts

router = APIRouter(tags=["prices"], responses=ERROR_RESPONSES)

AlertIdPath = Annotated[str, PathParam(pattern=r"^alt_[0-9a-f]{16}$", description="alert id")]


class ForecastPoint(BaseModel):
    date: str
    price: float
    low: float
    high: float


class PriceAdvicePublic(BaseModel):
    """DESIGN.md's ``price_advice`` object."""

    product_id: str
    current: float
    min: float | None
    median: float | None
    max: float | None
    percentile: float | None
    forecast: list[ForecastPoint]
    drop_probability: float | None
    verdict: Literal["buy_now", "wait", "not_enough_history"]
    why: str


class PricePoint(BaseModel):
    date: str
    price: float


class PriceResponse(BaseModel):
    price_advice: PriceAdvicePublic
    currency: str
    history: list[PricePoint] = Field(description="weekly prices, oldest first (the sparkline)")


class AlertCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    session_id: str = Field(pattern=SESSION_ID_PATTERN)
    product_id: str = Field(pattern=PRODUCT_ID_PATTERN)
    price_max: float | None = Field(
        default=None, gt=0, le=10_000_000, allow_inf_nan=False, description="null = any drop"
    )
    email: str | None = Field(default=None, max_length=320)


class AlertPublic(BaseModel):
    id: str
    session_id: str
    product_id: str
    price_max: float | None
    baseline_price: float
    currency: str
    email: str | None
    status: Literal["active", "fired", "cancelled"]
    created_at: str
    fired_at: str | None
    fired_price: float | None


class AlertsResponse(BaseModel):
    alerts: list[AlertPublic]


def _public(alert: Any) -> AlertPublic:
    return AlertPublic(**alert.to_public())


@router.get("/v1/products/{product_id}/price", operation_id="get_price", response_model=PriceResponse)
def product_price(runtime: RuntimeDep, product_id: ProductIdPath) -> PriceResponse:
    """Current price against its history, the forecast, the drop probability and buy-now-or-wait."""
    advice, currency, history = runtime.prices.report(product_id)
    return PriceResponse(
        price_advice=PriceAdvicePublic(**advice),
        currency=currency,
        history=[PricePoint(**p) for p in history],
    )


@router.post("/v1/alerts", status_code=201, operation_id="create_alert", response_model=AlertPublic)
def new_alert(runtime: RuntimeDep, body: AlertCreate) -> AlertPublic:
    """Tell the session (and the store's mailer, by webhook) when the price falls to ``price_max``
    or, when it is null, below today's price.  An identical active alert is returned, not doubled."""
    with runtime.db.session() as s:
        alert = create_alert(
            s,
            session_id=body.session_id,
            product_id=body.product_id,
            price_max=body.price_max,
            email=body.email,
        )
    return _public(alert)


@router.get("/v1/sessions/{session_id}/alerts", operation_id="list_alerts", response_model=AlertsResponse)
def session_alerts(runtime: RuntimeDep, session_id: SessionIdPath) -> AlertsResponse:
    with runtime.db.session() as s:
        return AlertsResponse(alerts=[_public(a) for a in list_alerts(s, session_id=session_id)])


@router.delete(
    "/v1/sessions/{session_id}/alerts/{alert_id}", operation_id="cancel_alert", response_model=AlertPublic
)
def remove_alert(runtime: RuntimeDep, session_id: SessionIdPath, alert_id: AlertIdPath) -> AlertPublic:
    with runtime.db.session() as s:
        return _public(cancel_alert(s, session_id=session_id, alert_id=alert_id))
