"""The order webhook: hands placed (and cancelled) orders to the store's own system.

Each event is POSTed as JSON ``{"id", "type", "created_at", "order"}`` with
``X-ShopAssist-Signature: sha256=<hex HMAC-SHA256 of the raw body with the secret>`` (when a secret
is set), from a background thread, retried with exponential backoff on network errors, 408, 429 and
5xx, a bounded number of times.  It never blocks or fails the order; a delivery that runs out of
attempts is logged.  Retries carry the same body and event id, so the receiver can de-duplicate.
Deliveries still waiting when the process exits are lost (no outbox table yet).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import random
import secrets
import threading
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
        self._threads: set[threading.Thread] = set()
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
        """(event id, JSON body) for one event."""
        event_id = "evt_" + secrets.token_hex(12)
        doc: dict[str, Any] = {
            "id": event_id,
            "type": event_type,
            "created_at": iso(utcnow()),
            "order": order.to_webhook(),
        }
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
        """Deliver in a background thread and return at once."""
        event_id, body = self.payload(event_type, order)
        thread = threading.Thread(
            target=self._run,
            args=(event_type, event_id, body, order.id),
            name=f"order-webhook-{order.id}",
            daemon=True,
        )
        with self._lock:
            self._threads.add(thread)
        thread.start()

    def _run(self, event_type: str, event_id: str, body: bytes, order_id: str) -> None:
        try:
            ok = self.deliver(event_type, event_id, body)
            if not ok:
                log.error("order webhook gave up on %s for order %s (%s)", event_type, order_id, event_id)
        except Exception:  # the thread must not die silently
            log.exception("order webhook failed for order %s", order_id)
        finally:
            with self._lock:
                self._threads.discard(threading.current_thread())

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        delay = min(self.max_backoff_s, self.backoff_s * (2.0 ** (attempt - 1)))
        if retry_after and retry_after.strip().isdigit():
            delay = min(self.max_backoff_s, max(delay, float(retry_after)))
        return delay * (1 + random.random() * 0.1)

    def deliver(self, event_type: str, event_id: str, body: bytes) -> bool:
        """POST until a 2xx (True) or until attempts run out / a final 4xx (False).  Blocking."""
        import httpx

        headers = self.headers(event_type, event_id, body)
        with httpx.Client(
            timeout=self.timeout_s, transport=self._transport, follow_redirects=False
        ) as client:
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

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for deliveries in flight (tests, shutdown); True when none is left."""
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout)
        with self._lock:
            return not any(t.is_alive() for t in self._threads)

    def close(self) -> None:
        """Stop waiting between retries (attempts in progress finish)."""
        self._stop.set()
