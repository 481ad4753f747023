"""Photos and prices in the conversation: search by a photo, narrow it with words, "more like the
third one"; "is it a good price?" and "tell me when it drops below $X" through to the alert's notice."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from assistant.config import Settings
from assistant.models import ProductRow
from tests.conftest import DEMO_CATALOG


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory, nlu_model_dir: Path) -> Iterator[Any]:
    from api.app import create_app
    from assistant.catalog import ingest_catalog
    from assistant.prices import seed_simulated_history
    from assistant.runtime import Runtime

    data = tmp_path_factory.mktemp("image-price-chat") / "var"
    (data / "models").mkdir(parents=True)
    shutil.copytree(nlu_model_dir, data / "models" / "nlu")
    settings = Settings(
        data_dir=data, encoder="hashing", image_embedder="histogram", alert_sweep_interval_s=0
    )
    rt = Runtime(settings)
    ingest_catalog(path=DEMO_CATALOG, db=rt.db, index=rt.index)
    seed_simulated_history(rt.db, weeks=104, seed=3)
    rt.images.embed_catalog(rt.index.products())
    with TestClient(create_app(runtime=rt)) as client:
        yield client, rt
    rt.close()


def chat(client: TestClient, sid: str | None, message: str, **extra: Any) -> dict[str, Any]:
    r = client.post("/v1/chat", json={"session_id": sid, "message": message, **extra})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def upload(client: TestClient, path: Path) -> str:
    r = client.post("/v1/images", files={"file": ("photo.jpg", path.read_bytes(), "image/jpeg")})
    assert r.status_code == 201, r.text
    return str(r.json()["image_id"])


def test_a_photo_finds_its_product_and_words_narrow_the_search(shop: Any) -> None:
    client, rt = shop
    product = next(p for p in rt.index.products() if p.image_path and p.price > 30)
    image_id = upload(client, Path(product.image_path))

    first = chat(client, None, "find me something like this", image_id=image_id)
    sid = first["session_id"]
    assert first["action"] == "show_products"
    assert first["products"][0]["id"] == product.id  # the same photo is the closest match
    assert "your photo" in first["reply"]

    cheaper = chat(client, sid, f"like this but under ${int(product.price) - 1}")
    assert cheaper["action"] == "show_products" and cheaper["products"]
    assert all(p["price"] <= product.price - 1 for p in cheaper["products"])
    assert product.id not in [p["id"] for p in cheaper["products"]]
    assert "your photo" in cheaper["reply"]  # still searching by the photo, with the new filter

    third = cheaper["products"][2]
    more = chat(client, sid, "more like the third one")
    assert more["action"] == "show_products" and more["products"]
    assert third["id"] not in [p["id"] for p in more["products"]]
    assert third["title"] in more["reply"]


def test_an_unknown_image_id_is_a_404(shop: Any) -> None:
    client, _ = shop
    r = client.post(
        "/v1/chat", json={"session_id": None, "message": "like this", "image_id": "img_" + "a" * 24}
    )
    assert r.status_code == 404 and r.json()["error"]["code"] == "image_not_found"


def test_price_advice_and_an_alert_that_fires_once_into_the_conversation(shop: Any) -> None:
    from assistant.prices import sweep_alerts

    client, rt = shop
    found = chat(client, None, "show me backpacks")
    sid = found["session_id"]
    first = found["products"][0]

    advice = chat(client, sid, "is the first one a good price?")
    assert advice["action"] == "price_advice"
    pa = advice["price_advice"]
    assert pa["product_id"] == first["id"] and pa["verdict"] in ("buy_now", "wait")
    assert pa["why"] and pa["why"] in advice["reply"]

    target = round(first["price"] * 0.9, 2)
    made = chat(client, sid, f"tell me when it drops below ${target:.2f}")
    assert made["action"] == "alert_created", made["reply"]
    assert first["title"] in made["reply"]

    with rt.db.session() as s:
        s.execute(update(ProductRow).where(ProductRow.id == first["id"]).values(price=target - 1))
    assert sweep_alerts(rt.db).fired == 1
    assert sweep_alerts(rt.db).fired == 0
    nxt = chat(client, sid, "show me my cart")
    assert [n["kind"] for n in nxt["notices"]] == ["price_alert"]
    assert nxt["notices"][0]["data"]["product_id"] == first["id"]
    assert chat(client, sid, "hello")["notices"] == []
