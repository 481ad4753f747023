"""The FastAPI application factory."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware

from api.errors import error_response, install_error_handlers, mark_error
from api.middleware import LimitBodySize, ObserveRequests
from api.routers import (
    analytics,
    at_risk,
    cart,
    chat,
    events,
    health,
    images,
    orders,
    prices,
    products,
    sessions,
    staff,
    web,
)
from assistant.config import Settings, get_settings
from assistant.errors import ServiceUnavailable
from assistant.ratelimit import RateLimited
from assistant.runtime import Runtime

__all__ = ["create_app"]


def _warm_up(runtime: Runtime) -> None:
    """Load the NLU model and run one query through each model now, not on the first shopper's turn."""
    log = logging.getLogger("shopassist.api")
    try:
        runtime.assistant.nlu.parse("show me black watches")
    except ServiceUnavailable as exc:
        log.warning("chat is unavailable until the NLU model exists: %s", exc.message)
    if runtime.index.n_active:
        from assistant.products import ranked_search
        from retrieval import SearchFilters

        reranker = runtime.reranker
        if reranker is None:
            log.warning("no search re-ranker yet (shopassist train reranker): hybrid order is kept")
        ranked_search(runtime.index, "warm up", SearchFilters(), reranker=reranker)
    if runtime.recommender.model() is None:
        log.info("recommendations: item-to-item similarity (no model trained on the interaction log yet)")


def create_app(settings: Settings | None = None, *, runtime: Runtime | None = None) -> FastAPI:
    """Build the app; the runtime (database, encoder, indexes) is made at start-up unless given."""
    settings = settings or (runtime.settings if runtime else get_settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own = app.state.runtime is None
        if own:
            app.state.runtime = Runtime(settings)
            _warm_up(app.state.runtime)
        from assistant.prices import AlertSweeper
        from assistant.privacy import RetentionSweeper

        rt = app.state.runtime
        sweepers: list[AlertSweeper | RetentionSweeper] = [
            AlertSweeper(rt.db, interval_s=settings.alert_sweep_interval_s, webhook=rt.alert_webhook),
            RetentionSweeper(
                rt.db,
                settings.retention_days,
                uploads=rt.uploads,
                interval_s=settings.retention_sweep_interval_s,
            ),
        ]
        for sweeper in sweepers:
            sweeper.start()
        try:
            yield
        finally:
            for sweeper in sweepers:
                sweeper.stop()
            if own:
                app.state.runtime.close()
                app.state.runtime = None

    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    app = FastAPI(
        title="ShopAssist",
        version="0.1.0",
        description="Self-hosted conversational shopping assistant.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.runtime = runtime
    install_error_handlers(app)

    @app.middleware("http")
    async def per_ip_rate_limit(request: Request, call_next: Any) -> Any:
        """Every API request counts against its client IP (429 + Retry-After past the limit)."""
        rt = request.app.state.runtime
        if rt is not None and request.url.path.startswith("/v1/"):
            try:
                rt.rate_limits.check_ip(request.client.host if request.client else "unknown")
            except RateLimited as exc:
                mark_error(request, exc.code)
                return error_response(exc.status_code, exc.code, exc.message, headers=exc.headers)
        return await call_next(request)

    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PATCH", "DELETE"],
            allow_headers=["Content-Type", "Authorization", "Idempotency-Key", "X-Request-ID"],
            expose_headers=["X-Request-ID", "Retry-After"],
        )
    from api.routers.images import MAX_UPLOAD_BYTES

    # added last = outermost: every answer, 413 and 429 included, gets an id, a log line and metrics
    app.add_middleware(
        LimitBodySize,
        limit=settings.max_body_bytes,
        limits_by_prefix={"/v1/images": MAX_UPLOAD_BYTES + 65536},
    )
    app.add_middleware(
        ObserveRequests,
        metrics=lambda: app.state.runtime.metrics if app.state.runtime is not None else None,
    )
    app.include_router(health.router)
    app.include_router(prices.router)
    app.include_router(images.router)
    app.include_router(products.router)
    app.include_router(chat.router)
    app.include_router(cart.router)
    app.include_router(orders.router)
    app.include_router(sessions.router)
    app.include_router(events.router)
    app.include_router(staff.router)
    app.include_router(analytics.router)
    app.include_router(at_risk.router)
    web.include(app)  # the demo shop page at /, the widget, the staff console at /staff

    return app
