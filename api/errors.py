"""One error envelope for every failure: ``{"error": {"code", "message"}}``."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from assistant.errors import ShopAssistError

__all__ = ["install_error_handlers", "error_response", "mark_error", "route_of", "ERROR_RESPONSES"]

log = logging.getLogger("shopassist.api")

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "rate_limited",
}

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
            "required": ["code", "message"],
        }
    },
    "required": ["error"],
}

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"description": name.replace("_", " "), "content": {"application/json": {"schema": ERROR_SCHEMA}}}
    for code, name in _HTTP_CODES.items()
    if code in (404, 422)
}


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status, headers=headers)


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors()[:3]:
        loc = ".".join(str(x) for x in err.get("loc", ()) if x not in ("query", "body", "path", "header"))
        msg = str(err.get("msg", "invalid value"))
        parts.append(f"{loc}: {msg}" if loc else msg)
    return "; ".join(parts) or "invalid request"


def mark_error(request: Request, code: str) -> None:
    """Tell the request log and the metrics which error code this request got."""
    request.state.error_code = code


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ShopAssistError)
    async def _domain(request: Request, exc: ShopAssistError) -> JSONResponse:
        mark_error(request, exc.code)
        return error_response(exc.status_code, exc.code, exc.message, headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        mark_error(request, "invalid_request")
        return error_response(422, "invalid_request", _validation_message(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "error")
        mark_error(request, code)
        message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
        return error_response(exc.status_code, code, message, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        mark_error(request, "internal_error")
        rid = getattr(request.state, "request_id", "-")
        log.exception("unhandled error on %s %s (request %s)", request.method, route_of(request.scope), rid)
        return error_response(500, "internal_error", "something went wrong on our side; it has been logged")


def route_of(scope: Any) -> str:
    """The matched route's template (``/v1/sessions/{session_id}``), never the path with its ids."""
    path = getattr(scope.get("route"), "path", None)
    return str(path) if path else "unmatched"
