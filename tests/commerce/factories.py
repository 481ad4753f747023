"""Test factories for the commerce tests: catalog rows and sessions, through the real database."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from assistant.commerce import create_session
from assistant.db import Database
from assistant.models import ProductRow, utcnow


def insert_product(
    db: Database,
    product_id: str,
    price: float,
    *,
    title: str | None = None,
    in_stock: bool = True,
    active: bool = True,
    currency: str = "USD",
) -> str:
    now = utcnow()
    with db.session() as s:
        s.add(
            ProductRow(
                id=product_id,
                title=title or f"Product {product_id}",
                description="",
                product_type="thing",
                category="",
                brand="",
                price=price,
                currency=currency,
                rating=None,
                rating_count=0,
                in_stock=in_stock,
                attributes={},
                active=active,
                content_hash="test",
                created_at=now,
                updated_at=now,
            )
        )
    return product_id


def update_product(db: Database, product_id: str, **values: Any) -> None:
    with db.session() as s:
        row = s.get(ProductRow, product_id)
        assert row is not None
        for key, value in values.items():
            setattr(row, key, value)


def new_session(db: Database) -> str:
    with db.session() as s:
        return create_session(s).id


# ---------------------------------------------------------------------------- a webhook receiver

#: a valid US shipping address for checkout tests
ADDRESS = {
    "name": "Jane Doe",
    "line1": "12 Main St",
    "line2": "Apt 4",
    "city": "Springfield",
    "region": "IL",
    "postal_code": "62704",
    "country": "US",
}

SECRET = "s3cret-for-tests"


@dataclass
class Hook:
    url: str
    statuses: list[int]
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    arrived: threading.Event = field(default_factory=threading.Event)

    def wait_for(self, n: int, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.requests) < n and time.monotonic() < deadline:
            self.arrived.wait(0.05)
            self.arrived.clear()
        assert len(self.requests) >= n, f"{len(self.requests)} of {n} deliveries arrived"


@contextmanager
def hook_server(statuses: list[int]) -> Iterator[Hook]:
    """Answers POSTs with ``statuses`` in turn (then 200), recording headers and bodies."""
    hook = Hook(url="", statuses=statuses)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            n = len(hook.requests)
            hook.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
            status = hook.statuses[n] if n < len(hook.statuses) else 200
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()
            hook.arrived.set()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    hook.url = f"http://127.0.0.1:{server.server_port}/orders"
    try:
        yield hook
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
