"""Pure ASGI middleware: request ids, metrics and the request log; request body size limits.

Pure ASGI (not ``BaseHTTPMiddleware``) so streaming answers pass through untouched and the cost per
request stays in microseconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import error_response, route_of
from assistant.observability import Metrics, log_request, request_id_from

__all__ = ["ObserveRequests", "LimitBodySize"]


def _header(scope: Scope, name: bytes) -> str | None:
    for k, v in scope.get("headers", ()):
        if k == name:
            return str(v.decode("latin-1"))
    return None


class ObserveRequests:
    """Gives every request an id (``X-Request-ID``, echoed back), times it into the metrics and writes
    one structured log line when it ends."""

    def __init__(self, app: ASGIApp, metrics: Callable[[], Metrics | None]) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = request_id_from(_header(scope, b"x-request-id"))
        state = scope.setdefault("state", {})
        state["request_id"] = rid
        status = 500
        t0 = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                MutableHeaders(scope=message).append("X-Request-ID", rid)
            await send(message)

        metrics = self.metrics()
        if metrics is not None:
            metrics.in_progress.inc()
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - t0
            route = route_of(scope)
            code = state.get("error_code")
            if metrics is not None:
                metrics.in_progress.dec()
                if route != "/metrics":
                    metrics.observe_request(scope["method"], route, status, seconds, code)
            client = scope.get("client")
            log_request(
                request_id=rid,
                method=scope["method"],
                route=route,
                path=scope.get("path", ""),
                query=scope.get("query_string", b"").decode("latin-1"),
                status=status,
                ms=seconds * 1000,
                code=code,
                client=client[0] if client else None,
            )


class LimitBodySize:
    """Answers 413 ``payload_too_large`` for a body over the limit, declared or streamed (chunked)."""

    def __init__(self, app: ASGIApp, limit: int, limits_by_prefix: dict[str, int] | None = None) -> None:
        self.app = app
        self.limit = limit
        self.by_prefix = limits_by_prefix or {}

    def _limit_for(self, path: str) -> int:
        for prefix, limit in self.by_prefix.items():
            if path.startswith(prefix):
                return limit
        return self.limit

    async def _too_large(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        scope.setdefault("state", {})["error_code"] = "payload_too_large"
        answer = error_response(413, "payload_too_large", f"the request body is over {limit} bytes")
        await answer(scope, receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        limit = self._limit_for(scope.get("path", ""))
        declared = _header(scope, b"content-length")
        if declared is not None:
            try:
                too_big = int(declared) > limit
            except ValueError:
                too_big = False  # the server rejects a malformed length itself
            if too_big:
                await self._too_large(scope, receive, send, limit)
                return
            await self.app(scope, receive, send)
            return
        # no length given (chunked): read it here, up to the limit, then hand it on
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                messages.append(message)
                break
            size += len(message.get("body", b""))
            if size > limit:
                await self._too_large(scope, receive, send, limit)
                return
            messages.append(message)
            if not message.get("more_body", False):
                break
        queue = list(messages)

        async def replay() -> Any:
            if queue:
                return queue.pop(0)
            return await receive()

        await self.app(scope, replay, send)
