"""The order webhook: hands placed (and cancelled) orders to the store's own system.

Each event is POSTed as JSON ``{"id", "type", "created_at", "order"}`` with
``X-ShopAssist-Signature: sha256=<hex HMAC-SHA256 of the raw body with the secret>`` (when a secret
is set) by one background delivery thread, in the order the events happened (so ``order.cancelled``
never overtakes its ``order.placed``), retried with exponential backoff on network errors, 408, 425,
429 and 5xx, a bounded number of times.  It never blocks or fails the order: ``notify`` only queues
(a bounded queue; overflow is logged and dropped), and an event that runs out of attempts is logged.
Retries carry the same body and event id (``X-ShopAssist-Delivery``) so the receiver can de-duplicate.
Events still queued when the process exits are lost (no outbox table yet).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import logging
import queue
import random
import secrets
import threading
import time
from typing import TYPE_CHECKING, Any

from assistant.commerce._common import iso
from assistant.commerce._orders import Order
from assistant.models import utcnow

if TYPE_CHECKING:
    import httpx

    from assistant.config import Settings

__all__ = ["OrderWebhook", "sign_payload", "verify_signature", "SIGNATURE_HEADER"]

log = logging.getLogger("shopassist.webhook")

SIGNATURE_HEADER = "X-ShopAssist-Signature"
_RETRY_STATUSES = frozenset({408, 425, 429})


def sign_payload(secret: str, body: bytes) -> str:
    """The signature header value: ``sha256=`` + hex HMAC-SHA256 of the raw body."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify_signature(secret: str, body: bytes, header: str | None) -> bool:
    """For receivers (and tests): does ``header`` sign ``body`` with ``secret``?  Constant-time."""
    return header is not None and hmac.compare_digest(sign_payload(secret, body), header.strip())


class OrderWebhook:
    """An :class:`~assistant.commerce.OrderNotifier` that POSTs signed events to ``url``."""

    def __init__(
        self,
        url: str,
        *,
        secret: str | None = None,
        attempts: int = 6,
        backoff_s: float = 1.0,
        max_backoff_s: float = 60.0,
        timeout_s: float = 10.0,
        max_queue: int = 10_000,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"order webhook URL must be http(s), not {url!r}")
        if attempts < 1:
            raise ValueError("attempts must be at least 1")
        self.url = url
        self.secret = secret
        self.attempts = attempts
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.timeout_s = timeout_s
        self._transport = transport
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._queue: queue.Queue[tuple[str, str, bytes, str] | None] = queue.Queue(maxsize=max_queue)
        self._worker: threading.Thread | None = None
        self._client: httpx.Client | None = None
        if not secret:
            log.warning("order webhook %s has no secret: deliveries are not signed", url)

    @classmethod
    def from_settings(cls, settings: Settings) -> OrderWebhook | None:
        """The webhook the settings ask for (``SHOPASSIST_ORDER_WEBHOOK_URL`` / ``…_SECRET``), or ``None``."""
        if not settings.order_webhook_url:
            return None
        return cls(settings.order_webhook_url, secret=settings.order_webhook_secret)

    # -- payload

    def payload(self, event_type: str, order: Order) -> tuple[str, bytes]:
        """(event id, JSON body) for one order event."""
        return self.event_body(event_type, {"order": order.to_webhook()})

    @staticmethod
    def event_body(event_type: str, data: dict[str, Any]) -> tuple[str, bytes]:
        """(event id, JSON body ``{"id", "type", "created_at", **data}``) for any event."""
        event_id = "evt_" + secrets.token_hex(12)
        doc: dict[str, Any] = {"id": event_id, "type": event_type, "created_at": iso(utcnow()), **data}
        return event_id, json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode("utf-8")

    def headers(self, event_type: str, event_id: str, body: bytes) -> dict[str, str]:
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "ShopAssist-Webhook/1",
            "X-ShopAssist-Event": event_type,
            "X-ShopAssist-Delivery": event_id,
        }
        if self.secret:
            headers[SIGNATURE_HEADER] = sign_payload(self.secret, body)
        return headers

    # -- delivery

    def notify(self, event_type: str, order: Order) -> None:
        """Queue the event for the delivery thread and return at once (never raises, never blocks)."""
        self.send(event_type, order.id, {"order": order.to_webhook()})

    def send(self, event_type: str, subject: str, data: dict[str, Any]) -> None:
        """Queue any event (``subject`` names it in the logs: an order id, an alert id)."""
        event_id, body = self.event_body(event_type, data)
        try:
            self._queue.put_nowait((event_type, event_id, body, subject))
        except queue.Full:
            log.error("webhook queue is full; dropped %s for %s", event_type, subject)
            return
        with self._lock:
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._loop, name="webhook", daemon=True)
                self._worker.start()

    def _loop(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is None:
                    return
                event_type, event_id, body, subject = item
                if not self.deliver(event_type, event_id, body):
                    log.error("webhook gave up on %s for %s (%s)", event_type, subject, event_id)
            except Exception:  # the delivery thread must not die
                log.exception("order webhook failed")
            finally:
                self._queue.task_done()

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        delay = min(self.max_backoff_s, self.backoff_s * (2.0 ** (attempt - 1)))
        if retry_after and retry_after.strip().isdigit():
            delay = min(self.max_backoff_s, max(delay, float(retry_after)))
        return delay * (1 + random.random() * 0.1)

    def deliver(self, event_type: str, event_id: str, body: bytes) -> bool:
        """POST until a 2xx (True) or until attempts run out / a final 4xx (False).  Blocking."""
        import httpx

        headers = self.headers(event_type, event_id, body)
        client = self._http()
        for attempt in range(1, self.attempts + 1):
            retry_after: str | None = None
            try:
                response = client.post(self.url, content=body, headers=headers)
            except httpx.HTTPError as exc:
                log.warning("order webhook attempt %d/%d: %s", attempt, self.attempts, exc)
            else:
                if 200 <= response.status_code < 300:
                    return True
                if response.status_code < 500 and response.status_code not in _RETRY_STATUSES:
                    log.error("order webhook refused %s with HTTP %d", event_id, response.status_code)
                    return False
                retry_after = response.headers.get("Retry-After")
                log.warning(
                    "order webhook attempt %d/%d: HTTP %d", attempt, self.attempts, response.status_code
                )
            if attempt < self.attempts and self._stop.wait(self._delay(attempt, retry_after)):
                return False  # closing
        return False

    def _http(self) -> httpx.Client:
        """One client (thread-safe, pooled) for all deliveries, made on first use."""
        import httpx

        with self._lock:
            if self._client is None:
                self._client = httpx.Client(
                    timeout=self.timeout_s, transport=self._transport, follow_redirects=False
                )
            return self._client

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until every queued event is delivered or given up (tests, shutdown); True when done."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._queue.all_tasks_done:
            while self._queue.unfinished_tasks:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._queue.all_tasks_done.wait(remaining)
        return True

    def close(self) -> None:
        """Stop retrying (an attempt in progress finishes; queued events get one attempt each), end the
        delivery thread and close the HTTP client."""
        self._stop.set()
        with contextlib.suppress(queue.Full):
            self._queue.put_nowait(None)
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()
