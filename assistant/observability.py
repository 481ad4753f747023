"""Prometheus metrics and the one structured log line per request.

Each :class:`Metrics` has its own registry (several apps in one process, as in tests, never share
counts).  Labels are route templates, intents, actions and error codes: never ids, text or anything
a shopper typed.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from assistant.dialogue import TurnRecord
from assistant.pii import mask_pii

__all__ = ["Metrics", "CONTENT_TYPE_LATEST", "request_id_from", "log_request"]

request_log = logging.getLogger("shopassist.request")

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_STAGE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class Metrics:
    """The service's counters and histograms, rendered at ``/metrics``."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.request_latency = Histogram(
            "shopassist_http_request_duration_seconds",
            "HTTP request latency by route template",
            ["method", "route", "status"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.errors = Counter(
            "shopassist_http_errors_total",
            "Answers with status >= 400, by route and error code",
            ["route", "status", "code"],
            registry=r,
        )
        self.turns = Counter(
            "shopassist_turns_total",
            "Chat and voice turns by intent and action",
            ["channel", "intent", "action"],
            registry=r,
        )
        self.low_confidence = Counter(
            "shopassist_nlu_low_confidence_turns_total",
            "Turns whose NLU result was below the confidence threshold (the bot asked to rephrase)",
            ["channel"],
            registry=r,
        )
        self.zero_results = Counter(
            "shopassist_zero_result_searches_total", "Searches that found nothing", registry=r
        )
        self.turn_latency = Histogram(
            "shopassist_turn_duration_seconds",
            "Whole turn inside the service",
            ["channel"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.stage_latency = Histogram(
            "shopassist_turn_stage_duration_seconds",
            "Turn time by stage (nlu, retrieval, rerank, pricing, policy, persist, image_embed)",
            ["stage"],
            buckets=_STAGE_BUCKETS,
            registry=r,
        )
        self.in_progress = Gauge(
            "shopassist_http_requests_in_progress", "Requests being served now", registry=r
        )

    # ------------------------------------------------------------------ recording
    def observe_request(self, method: str, route: str, status: int, seconds: float, code: str | None) -> None:
        self.request_latency.labels(method, route, str(status)).observe(seconds)
        if status >= 400:
            self.errors.labels(route, str(status), code or "error").inc()

    def observe_turn(self, rec: TurnRecord) -> None:
        self.turns.labels(rec.channel, rec.intent, rec.action).inc()
        if rec.unclear:
            self.low_confidence.labels(rec.channel).inc()
        if rec.n_results == 0:
            self.zero_results.inc()
        self.turn_latency.labels(rec.channel).observe(rec.total_ms / 1000)
        for key, ms in rec.timings_ms.items():
            self.stage_latency.labels(key.removesuffix("_ms")).observe(ms / 1000)

    def render(self) -> bytes:
        return generate_latest(self.registry)


def request_id_from(header: str | None) -> str:
    """The caller's ``X-Request-ID`` when it is a sane token, else a fresh one."""
    if header and _REQUEST_ID.match(header):
        return header
    return uuid.uuid4().hex


def log_request(
    *,
    request_id: str,
    method: str,
    route: str,
    path: str,
    query: str,
    status: int,
    ms: float,
    code: str | None = None,
    client: str | None = None,
) -> None:
    """One JSON line per request.  Paths of unmatched routes and query strings are masked: they may
    carry an e-mail or a phone number (a staff search); matched routes are logged as their template
    so session ids, which are bearer secrets, never reach the log."""
    entry: dict[str, Any] = {
        "request_id": request_id,
        "method": method,
        "route": route,
        "status": status,
        "ms": round(ms, 2),
    }
    if route == "unmatched":
        entry["path"] = mask_pii(path)[:200]
    if query:
        entry["query"] = _mask_query(query)
    if code:
        entry["error"] = code
    if client:
        entry["client"] = client
    level = logging.WARNING if status >= 500 else logging.INFO
    request_log.log(level, json.dumps(entry, ensure_ascii=False))


_SECRET_PARAMS = re.compile(r"(?i)^(session_id|key|token|api_key|access_token)$")


def _mask_query(query: str) -> str:
    from urllib.parse import parse_qsl, urlencode

    try:
        pairs = parse_qsl(query, keep_blank_values=True)
    except ValueError:
        return "[unparsable]"
    masked = [(k, "***" if _SECRET_PARAMS.match(k) else mask_pii(v)) for k, v in pairs]
    return urlencode(masked)[:300]
