"""``/v1/products/{id}/price``, ``/v1/alerts`` and ``/v1/images`` through the real app."""

from __future__ import annotations

import io
import json
import os
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from api.app import create_app
from assistant.catalog import ingest_catalog
from assistant.config import Settings
from assistant.prices import seed_simulated_history
from assistant.runtime import Runtime

DEMO_DIR = Path(__file__).resolve().parents[2] / "data" / "demo"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, demo_rows: list[dict[str, Any]]) -> Iterator[Any]:
    root = tmp_path_factory.mktemp("prices-images")
    rows = [{**r, "image_path": str(DEMO_DIR / str(r["image_path"]))} for r in demo_rows[:120]]
    catalog = root / "c.jsonl"
    catalog.write_text("".join(json.dumps(r) + "\n" for r in rows))
    fresh = root / "fresh.jsonl"
    fresh.write_text(json.dumps({"id": "brand-new", "title": "Brand New Grey Scarf", "price": 19.0}) + "\n")
    with pytest.MonkeyPatch.context() as mp:
        for key in [k for k in os.environ if k.startswith("SHOPASSIST_")]:
            mp.delenv(key)
        settings = Settings(
            data_dir=root / "var", encoder="hashing", image_embedder="histogram", alert_sweep_interval_s=0
        )
    rt = Runtime(settings)
    try:
        ingest_catalog(path=catalog, db=rt.db, index=rt.index)
        assert seed_simulated_history(rt.db, weeks=104, seed=1) > 100 * 100
        ingest_catalog(path=fresh, db=rt.db, index=rt.index)  # after the seeding: one price point only
        report = rt.images.embed_catalog(rt.index.products())
        assert report.n_embedded == len(rows) and report.n_without_image == 1
    finally:
        rt.close()
    with TestClient(create_app(settings)) as client:
        yield client, rows


@pytest.fixture
def client(served: Any) -> TestClient:
    c: TestClient = served[0]
    return c


def envelope(resp: Any, status: int, code: str) -> None:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    assert body["error"]["code"] == code, body
    assert body["error"]["message"] and "Traceback" not in body["error"]["message"]


# ---------------------------------------------------------------------------- prices


def test_price_advice_for_a_product_with_history(client: TestClient, served: Any) -> None:
    pid = served[1][0]["id"]
    r = client.get(f"/v1/products/{pid}/price")
    assert r.status_code == 200, r.text
    body = r.json()
    advice = body["price_advice"]
    assert advice["product_id"] == pid and advice["current"] == served[1][0]["price"]
    assert advice["verdict"] in ("buy_now", "wait")
    assert advice["min"] <= advice["median"] <= advice["max"]
    assert 0 <= advice["percentile"] <= 100 and 0 <= advice["drop_probability"] <= 1
    assert advice["forecast"] and all(f["low"] <= f["price"] <= f["high"] for f in advice["forecast"])
    assert advice["why"]
    assert len(body["history"]) >= 100 and body["history"][-1]["price"] == advice["current"]


def test_one_price_point_is_not_enough_history(client: TestClient) -> None:
    advice = client.get("/v1/products/brand-new/price").json()["price_advice"]
    assert advice["verdict"] == "not_enough_history"
    assert advice["forecast"] == [] and advice["drop_probability"] is None


def test_price_of_an_unknown_product_is_404(client: TestClient) -> None:
    envelope(client.get("/v1/products/nope/price"), 404, "product_not_found")


def test_alerts_are_created_once_listed_cancelled_and_checked(client: TestClient, served: Any) -> None:
    row = served[1][3]
    sid = _session(client)
    body = {"session_id": sid, "product_id": row["id"], "price_max": round(row["price"] * 0.8, 2)}
    first = client.post("/v1/alerts", json=body)
    assert first.status_code == 201, first.text
    again = client.post("/v1/alerts", json=body)
    assert again.status_code == 201 and again.json()["id"] == first.json()["id"]
    listed = client.get(f"/v1/sessions/{sid}/alerts").json()["alerts"]
    assert [a["id"] for a in listed] == [first.json()["id"]] and listed[0]["status"] == "active"
    gone = client.delete(f"/v1/sessions/{sid}/alerts/{first.json()['id']}")
    assert gone.status_code == 200 and gone.json()["status"] == "cancelled"

    envelope(
        client.post("/v1/alerts", json={**body, "price_max": row["price"] + 1}), 409, "price_already_below"
    )
    envelope(client.post("/v1/alerts", json={**body, "price_max": -1}), 422, "invalid_request")
    envelope(client.post("/v1/alerts", json={**body, "product_id": "nope"}), 404, "product_not_found")
    envelope(client.post("/v1/alerts", json={**body, "session_id": "x" * 32}), 404, "session_not_found")
    envelope(client.post("/v1/alerts", json={**body, "email": "not-an-email"}), 422, "invalid_email")


def _session(client: TestClient) -> str:
    """A new session, as the first chat turn or the widget's first cart call would make it."""
    from assistant import commerce

    rt = client.app.state.runtime  # type: ignore[attr-defined]
    with rt.db.session() as s:
        return str(commerce.create_session(s, channel="web").id)


# ---------------------------------------------------------------------------- uploads


def _jpeg(size: tuple[int, int] = (60, 80), colour: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, format="JPEG")
    return buf.getvalue()


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width × height`` (the pixels are never there)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))


def test_a_photo_upload_returns_an_id_and_can_be_fetched(client: TestClient) -> None:
    r = client.post("/v1/images", files={"file": ("shirt.png", _jpeg(), "image/png")})  # name and type lie
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["image_id"].startswith("img_") and body["format"] == "jpeg"
    assert (body["width"], body["height"]) == (60, 80)
    got = client.get(f"/v1/images/{body['image_id']}")
    assert got.status_code == 200 and got.content == _jpeg()


@pytest.mark.parametrize(
    ("name", "data", "status", "code"),
    [
        ("empty.jpg", b"", 400, "empty_file"),
        ("doc.jpg", b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n", 415, "unsupported_type"),
        ("cut.jpg", _jpeg((400, 400))[:300], 400, "corrupt_image"),
        ("huge.png", _png_header_only(20_000, 20_000), 413, "too_many_pixels"),
        ("big.jpg", b"\xff\xd8\xff" + b"\0" * (8 * 1024 * 1024 + 10), 413, "too_large"),
    ],
)
def test_bad_uploads_get_a_clear_4xx_and_the_server_stays_up(
    client: TestClient, name: str, data: bytes, status: int, code: str
) -> None:
    envelope(client.post("/v1/images", files={"file": (name, data, "image/jpeg")}), status, code)
    assert client.get("/healthz").status_code == 200


def test_upload_without_a_file_or_with_a_bad_id(client: TestClient) -> None:
    envelope(client.post("/v1/images", data={"x": "1"}), 422, "invalid_request")
    envelope(client.get("/v1/images/img_" + "0" * 24), 404, "image_not_found")
    assert client.get("/v1/images/..%2F..%2Fetc%2Fpasswd").status_code in (404, 422)
