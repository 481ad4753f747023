"""Hostile or broken requests get a 4xx error envelope, never a 5xx, a hang or a file's content:
oversize bodies (413 ``payload_too_large``), wrong content types, broken JSON, unknown sessions
(404 ``session_not_found``) and path traversal in every kind of id."""

from __future__ import annotations

import io
import json
import random
import socket
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from tests.reliability.conftest import (
    ADDRESS,
    LiveServer,
    assert_envelope,
    auth,
    catalog_ids,
    new_session,
)

MIB = 1024 * 1024
DEFAULT_LIMIT = MIB  # SHOPASSIST_MAX_BODY_BYTES by default
UNKNOWN_SID = "A" * 43  # well-formed, never issued
JSON = {"content-type": "application/json"}

# Things a file read must never leak: /etc/passwd, this repo's own sources and settings.
LEAKS = ("root:x:0:0", "root:*:0:0", "[tool.ruff]", "def create_app", "[fonts]", "SHOPASSIST_", "BEGIN ")


def _body(n_bytes: int) -> bytes:
    """A well-formed chat request of exactly ``n_bytes`` (the message far over 2,000 characters)."""
    head, tail = b'{"session_id": null, "message": "', b'"}'
    return head + b"x" * (n_bytes - len(head) - len(tail)) + tail


# ---------------------------------------------------------------------------- body size


@pytest.mark.parametrize(
    "path",
    ["/v1/chat", "/v1/chat/stream", "/v1/voice", "/v1/events", "/v1/orders", "/v1/alerts"],
)
def test_a_body_over_the_limit_is_413(client: TestClient, path: str) -> None:
    r = client.post(path, content=_body(DEFAULT_LIMIT + 1), headers={**JSON, "Idempotency-Key": "big-1"})
    assert_envelope(r, 413, "payload_too_large")


def test_a_body_under_the_limit_is_read_and_judged_on_its_content(client: TestClient) -> None:
    """The limit is the documented 1 MiB: a 900 KB message is too long for a chat turn (422), not 413."""
    r = client.post("/v1/chat", content=_body(900 * 1024), headers=JSON)
    assert_envelope(r, 422, "invalid_request")


def test_a_chunked_body_without_a_length_is_refused(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(32):  # 2 MiB in 64 KiB pieces, no Content-Length
            yield b" " * 65536

    r = client.post("/v1/chat", content=chunks(), headers=JSON)
    assert_envelope(r, 413, "payload_too_large")


def test_a_chunked_body_is_cut_off_at_the_limit_over_real_http(live_server: LiveServer) -> None:
    """The server answers 413 once the limit is passed, without waiting for a body that never ends."""
    parts = urlsplit(live_server.base)
    with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), timeout=30) as sock:
        sock.sendall(
            (
                f"POST /v1/chat HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Type: application/json\r\n"
                "Transfer-Encoding: chunked\r\n\r\n"
            ).encode()
        )
        piece = b" " * 65536
        for _ in range(DEFAULT_LIMIT // len(piece) + 2):  # just past the limit; the final 0-chunk never comes
            sock.sendall(b"%x\r\n" % len(piece) + piece + b"\r\n")
        sock.settimeout(20)
        raw = b""
        while b"\r\n\r\n" not in raw:
            chunk = sock.recv(65536)
            assert chunk, "the server closed the connection without an answer"
            raw += chunk
    status = int(raw.split(b" ", 2)[1])
    assert status == 413, raw[:300]


def test_the_limit_follows_the_setting(rel_runtime: Any) -> None:
    from api.app import create_app

    small = rel_runtime.settings.model_copy(update={"max_body_bytes": 4096})
    with TestClient(create_app(small, runtime=rel_runtime)) as c:
        assert_envelope(c.post("/v1/chat", content=_body(5000), headers=JSON), 413, "payload_too_large")
        ok = c.post("/v1/chat", json={"session_id": None, "message": "hello"})
        assert ok.status_code == 200, ok.text


def _noise_png(min_bytes: int) -> bytes:
    side = int((min_bytes / 3) ** 0.5) + 16
    rng = random.Random(7)
    img = Image.frombytes("RGB", (side, side), bytes(rng.getrandbits(8) for _ in range(side * side * 3)))
    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=0)
    data = buf.getvalue()
    assert len(data) >= min_bytes
    return data


def test_photos_keep_their_own_8_mib_limit(client: TestClient) -> None:
    """A 2 MiB photo is over the JSON limit but uploads; over 8 MiB it is 413 whatever its bytes."""
    photo = _noise_png(2 * MIB)
    r = client.post("/v1/images", files={"file": ("noise.png", photo, "image/png")})
    assert r.status_code == 201, r.text
    assert r.json()["image_id"].startswith("img_")
    for size in (8 * MIB + 1, 9 * MIB):
        r = client.post(
            "/v1/images", files={"file": ("big.jpg", b"\xff\xd8\xff" + b"\0" * size, "image/jpeg")}
        )
        err = assert_envelope(r, 413)
        assert err["code"] in ("too_large", "payload_too_large"), err


def test_an_oversize_body_over_real_http_is_413(live_server: LiveServer) -> None:
    """Through uvicorn the client gets the 413 envelope, not a reset connection."""
    import httpx

    r = httpx.post(
        f"{live_server.base}/v1/chat", content=_body(DEFAULT_LIMIT + 4096), headers=JSON, timeout=30
    )
    assert_envelope(r, 413, "payload_too_large")


# ---------------------------------------------------------------------------- content type and JSON


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        ("show me black watches", "text/plain"),
        ("message=show+me+black+watches", "application/x-www-form-urlencoded"),
        ('{"session_id": null, "message": "hi"}', "text/plain"),
        ("<chat><message>hi</message></chat>", "application/xml"),
        ("", "application/json"),
        ('{"session_id": null, "message": "hi"', "application/json"),  # cut short
        ('{"session_id": null, "message": NaN}', "application/json"),
        ('{"session_id": null, "message": "hi",}', "application/json"),
        ("[1, 2, 3]", "application/json"),
        ('"just a string"', "application/json"),
        ("null", "application/json"),
        ("[" * 20000 + "]" * 20000, "application/json"),  # nested past the parser's recursion limit
        ('{"message": "' + "\\ud800" + '"}', "application/json"),  # lone surrogate
    ],
)
@pytest.mark.parametrize("path", ["/v1/chat", "/v1/sessions/{sid}/cart/items", "/v1/orders"])
def test_wrong_content_type_or_broken_json_is_a_4xx_envelope(
    client: TestClient, content: str, content_type: str, path: str
) -> None:
    sid = new_session(client)
    r = client.post(
        path.format(sid=sid),
        content=content.encode("utf-8", "surrogatepass"),
        headers={"content-type": content_type, "Idempotency-Key": "bad-json-1"},
    )
    assert_envelope(r)


def test_bytes_that_are_not_utf8_are_a_4xx_envelope(client: TestClient) -> None:
    r = client.post("/v1/chat", content=b'{"session_id": null, "message": "\xff\xfe\xfa"}', headers=JSON)
    assert_envelope(r)


# ---------------------------------------------------------------------------- unknown sessions


def _unknown_session_calls(pid: str) -> list[tuple[str, str, dict[str, Any] | None]]:
    s = UNKNOWN_SID
    return [
        ("POST", "/v1/chat", {"session_id": s, "message": "show me black watches"}),
        (
            "POST",
            "/v1/voice",
            {"session_id": s, "transcripts": [{"text": "black watches", "confidence": 0.9}]},
        ),
        ("GET", f"/v1/sessions/{s}", None),
        ("GET", f"/v1/sessions/{s}/cart", None),
        ("POST", f"/v1/sessions/{s}/cart/items", {"product_id": pid, "quantity": 1}),
        ("PATCH", f"/v1/sessions/{s}/cart/items/{pid}", {"quantity": 2}),
        ("DELETE", f"/v1/sessions/{s}/cart/items/{pid}", None),
        ("GET", f"/v1/sessions/{s}/notices", None),
        ("GET", f"/v1/sessions/{s}/alerts", None),
        ("POST", "/v1/alerts", {"session_id": s, "product_id": pid, "price_max": None, "email": None}),
        ("POST", "/v1/events", {"session_id": s, "type": "view", "product_id": pid}),
        ("POST", "/v1/orders", {"session_id": s, "email": "jane@example.com", "shipping_address": ADDRESS}),
    ]


def test_unknown_session_ids_are_404_session_not_found(client: TestClient) -> None:
    pid = catalog_ids(1)[0]
    for method, path, body in _unknown_session_calls(pid):
        r = client.request(method, path, json=body, headers={"Idempotency-Key": "unknown-sid-1"})
        try:
            assert_envelope(r, 404, "session_not_found")
        except AssertionError as exc:
            raise AssertionError(f"{method} {path}: {exc}") from None


def test_unknown_session_in_staff_routes_is_404(client: TestClient, staff_key: str) -> None:
    r = client.get(f"/v1/staff/conversations/{UNKNOWN_SID}", headers=auth(staff_key))
    assert_envelope(r, 404, "session_not_found")
    r = client.post(
        f"/v1/staff/conversations/{UNKNOWN_SID}/messages", json={"text": "hello"}, headers=auth(staff_key)
    )
    assert_envelope(r, 404, "session_not_found")


def test_an_order_of_an_unknown_session_is_not_found(client: TestClient) -> None:
    r = client.get("/v1/orders/ABCD2345", params={"session_id": UNKNOWN_SID})
    assert_envelope(r, 404, "order_not_found")


def test_the_chat_stream_refuses_an_unknown_session(client: TestClient) -> None:
    """Either a plain 404 before the stream opens, or one ``error`` event with the envelope."""
    r = client.post("/v1/chat/stream", json={"session_id": UNKNOWN_SID, "message": "hi"})
    if r.status_code == 404:
        assert_envelope(r, 404, "session_not_found")
        return
    assert r.status_code == 200, r.text
    events = [line for line in r.text.splitlines() if line.startswith(("event:", "data:"))]
    assert events[0].strip() == "event: error", events
    data = json.loads(events[1].removeprefix("data:").strip())
    assert data == {"error": {"code": "session_not_found", "message": data["error"]["message"]}}


# ---------------------------------------------------------------------------- path traversal

TRAVERSALS = [
    "../../etc/passwd",
    "..%2f..%2fetc%2fpasswd",
    "..%2F..%2F..%2Fpyproject.toml",
    "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "%2e%2e/%2e%2e/api/app.py",
    "%252e%252e%252fetc%252fpasswd",
    "....//....//etc/passwd",
    "..%5c..%5cpyproject.toml",
    "..\\..\\pyproject.toml",
    "%2fetc%2fpasswd",
    "img_000000000000000000000000%2f..%2f..%2fpyproject.toml",
    "..%00.png",
    "pyproject.toml%00.png",
]

ID_ROUTES = [
    "/v1/products/{x}",
    "/v1/products/{x}/image",
    "/v1/products/{x}/price",
    "/v1/images/{x}",
    "/v1/sessions/{x}",
    "/v1/sessions/{x}/cart",
    "/v1/sessions/{x}/notices",
    "/v1/orders/{x}?session_id=" + UNKNOWN_SID,
    "/v1/orders/ABCD2345?session_id={x}",
    "/static/{x}",
    "/v1/staff/conversations/{x}",
]


def _assert_refused(status: int, body: bytes, where: str) -> None:
    assert 400 <= status < 500, f"{where} -> {status}: {body[:300]!r}"
    text = body.decode("utf-8", "replace")
    for leak in LEAKS:
        assert leak not in text, f"{where} leaked {leak!r}: {text[:300]}"


@pytest.mark.parametrize("route", ID_ROUTES)
def test_path_traversal_in_ids_is_refused_in_process(client: TestClient, staff_key: str, route: str) -> None:
    for x in TRAVERSALS:
        url = route.format(x=x)
        r = client.get(url, headers=auth(staff_key))
        _assert_refused(r.status_code, r.content, url)
        if r.headers.get("content-type", "").startswith("application/json"):
            assert_envelope(r)


def _raw_get(base: str, target: str, headers: str = "") -> tuple[int, bytes]:
    """One request with the target sent exactly as written (no client-side normalisation of ``..``)."""
    parts = urlsplit(base)
    with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), timeout=20) as sock:
        sock.sendall(
            f"GET {target} HTTP/1.1\r\nHost: {parts.netloc}\r\n{headers}Connection: close\r\n\r\n".encode(
                "latin-1"
            )
        )
        chunks = []
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    raw = b"".join(chunks)
    head, _, body = raw.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, body


def test_path_traversal_over_real_http_is_refused(live_server: LiveServer) -> None:
    """uvicorn gets the raw target: ``..`` is not resolved by any client on the way."""
    targets = [route.format(x=x) for route in ID_ROUTES for x in TRAVERSALS]
    targets += ["/../../etc/passwd", "/static/../../pyproject.toml", "/widget.js/../../pyproject.toml"]
    for target in targets:
        status, body = _raw_get(live_server.base, target)
        _assert_refused(status, body, target)
