"""Price alerts: made once, fired once (across sweeps, threads and restarts), told to the shopper and
the store's mailer."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select, update

from assistant import commerce
from assistant.catalog import ingest_catalog
from assistant.commerce import OrderWebhook
from assistant.config import Settings
from assistant.errors import InvalidRequest, ProductNotFound, SessionNotFound
from assistant.models import PriceAlertRow, ProductRow
from assistant.prices import (
    PriceAlreadyBelow,
    alert_is_due,
    cancel_alert,
    create_alert,
    list_alerts,
    sweep_alerts,
)
from assistant.runtime import Runtime


@pytest.fixture
def shop(settings: Settings, small_catalog: Path) -> Any:
    rt = Runtime(settings)
    ingest_catalog(path=small_catalog, db=rt.db, index=rt.index)
    yield rt
    rt.close()


def _product(rt: Runtime) -> tuple[str, float]:
    with rt.db.session() as s:
        row = s.scalars(select(ProductRow).where(ProductRow.price > 40).order_by(ProductRow.id)).first()
        assert row is not None
        return row.id, row.price


def _set_price(rt: Runtime, pid: str, price: float) -> None:
    with rt.db.session() as s:
        s.execute(update(ProductRow).where(ProductRow.id == pid).values(price=price))


def _session(rt: Runtime) -> str:
    with rt.db.session() as s:
        return commerce.create_session(s, channel="web").id


def _notices(rt: Runtime, sid: str) -> list[dict[str, Any]]:
    with rt.db.session() as s:
        return [n.to_public() for n in commerce.take_notices(s, session_id=sid)]


def test_threshold_alert_fires_once_across_sweeps_and_a_restart(settings: Settings, shop: Runtime) -> None:
    pid, price = _product(shop)
    sid = _session(shop)
    with shop.db.session() as s:
        alert = create_alert(s, session_id=sid, product_id=pid, price_max=price - 10)
    assert alert.status == "active" and alert.baseline_price == price

    assert sweep_alerts(shop.db).fired == 0  # not due yet
    _set_price(shop, pid, price - 5)
    assert sweep_alerts(shop.db).fired == 0  # dropped, but not to the threshold
    _set_price(shop, pid, price - 12)
    first = sweep_alerts(shop.db)
    assert first.fired == 1 and first.fired_ids == [alert.id]
    assert sweep_alerts(shop.db).fired == 0

    notices = _notices(shop, sid)
    assert [n["kind"] for n in notices] == ["price_alert"]
    assert notices[0]["data"]["price"] == price - 12 and notices[0]["data"]["alert_id"] == alert.id
    assert f"{price - 12:,.2f}".rstrip("0").rstrip(".") in notices[0]["text"].replace("$", "")

    shop.close()
    again = Runtime(settings)  # a restarted process on the same data
    try:
        assert sweep_alerts(again.db).fired == 0
        _set_price(again, pid, price - 20)  # lower still: already fired, stays quiet
        assert sweep_alerts(again.db).fired == 0
        assert _notices(again, sid) == []
        with again.db.session() as s:
            (stored,) = list_alerts(s, session_id=sid)
        assert stored.status == "fired" and stored.fired_price == price - 12
    finally:
        again.close()


def test_any_drop_alert_ignores_rises_and_fires_on_a_drop(shop: Runtime) -> None:
    pid, price = _product(shop)
    sid = _session(shop)
    with shop.db.session() as s:
        create_alert(s, session_id=sid, product_id=pid)
    _set_price(shop, pid, price + 5)
    assert sweep_alerts(shop.db).fired == 0
    _set_price(shop, pid, price - 0.5)
    assert sweep_alerts(shop.db).fired == 1
    (notice,) = _notices(shop, sid)
    assert "Price drop" in notice["text"] and notice["data"]["previous_price"] == price


def test_concurrent_sweeps_fire_each_alert_once(shop: Runtime) -> None:
    pid, price = _product(shop)
    sessions = [_session(shop) for _ in range(5)]
    with shop.db.session() as s:
        for sid in sessions:
            create_alert(s, session_id=sid, product_id=pid, price_max=price - 1)
    _set_price(shop, pid, price - 2)
    results: list[int] = []
    barrier = threading.Barrier(4)

    def sweep() -> None:
        barrier.wait()
        results.append(sweep_alerts(shop.db).fired)

    threads = [threading.Thread(target=sweep) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(results) == 5
    assert [len(_notices(shop, sid)) for sid in sessions] == [1] * 5


def test_the_same_alert_twice_is_one_alert_and_a_cancelled_one_never_fires(shop: Runtime) -> None:
    pid, price = _product(shop)
    sid = _session(shop)
    with shop.db.session() as s:
        a = create_alert(s, session_id=sid, product_id=pid, price_max=price - 3)
        b = create_alert(s, session_id=sid, product_id=pid, price_max=price - 3, email="jo@example.com")
        other = create_alert(s, session_id=sid, product_id=pid, price_max=price - 6)
    assert b.id == a.id and not b.created and b.email == "jo@example.com"
    assert other.id != a.id
    with shop.db.session() as s:
        cancel_alert(s, session_id=sid, alert_id=other.id)
    _set_price(shop, pid, price - 10)
    report = sweep_alerts(shop.db)
    assert report.fired_ids == [a.id]


def test_bad_alerts_are_refused_with_a_reason(shop: Runtime) -> None:
    pid, price = _product(shop)
    sid = _session(shop)
    with shop.db.session() as s:
        with pytest.raises(PriceAlreadyBelow):
            create_alert(s, session_id=sid, product_id=pid, price_max=price + 1)
        with pytest.raises(InvalidRequest):
            create_alert(s, session_id=sid, product_id=pid, price_max=-5)
        with pytest.raises(InvalidRequest):
            create_alert(s, session_id=sid, product_id=pid, price_max=10, email="not an email")
        with pytest.raises(ProductNotFound):
            create_alert(s, session_id=sid, product_id="no-such-product")
        with pytest.raises(SessionNotFound):
            create_alert(s, session_id="x" * 32, product_id=pid)
        assert list_alerts(s, session_id=sid) == []


def test_a_fired_alert_reaches_the_mailer_webhook_once_with_the_email(shop: Runtime) -> None:
    received: list[dict[str, Any]] = []
    attempts = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        attempts["n"] += 1
        if attempts["n"] == 1:
            return httpx.Response(503)  # the mailer hiccups once: retried
        received.append(json.loads(request.content))
        return httpx.Response(204)

    hook = OrderWebhook(
        "http://mailer.test/hook", secret="s3", backoff_s=0.01, transport=httpx.MockTransport(handler)
    )
    pid, price = _product(shop)
    sid = _session(shop)
    with shop.db.session() as s:
        create_alert(s, session_id=sid, product_id=pid, price_max=price - 1, email="jo@example.com")
    _set_price(shop, pid, price - 1)
    try:
        sweep_alerts(shop.db, webhook=hook)
        sweep_alerts(shop.db, webhook=hook)
        assert hook.wait(timeout=10)
    finally:
        hook.close()
    assert len(received) == 1 and attempts["n"] == 2
    event = received[0]
    assert event["type"] == "price_alert.fired" and event["email"] == "jo@example.com"
    assert event["product"]["product_id"] == pid and event["product"]["price"] == price - 1


def test_alerts_of_an_erased_session_go_with_it(shop: Runtime) -> None:
    pid, price = _product(shop)
    sid = _session(shop)
    with shop.db.session() as s:
        create_alert(s, session_id=sid, product_id=pid, price_max=price - 1)
        s.delete(commerce.get_session(s, session_id=sid))
    _set_price(shop, pid, 1.0)
    assert sweep_alerts(shop.db).fired == 0
    with shop.db.session() as s:
        assert s.scalars(select(PriceAlertRow)).all() == []


prices = st.floats(min_value=0.01, max_value=1e6, allow_nan=False)


@given(price=prices, lower=prices, threshold=st.one_of(st.none(), prices), baseline=prices)
def test_an_alert_due_at_a_price_is_due_at_any_lower_price(
    price: float, lower: float, threshold: float | None, baseline: float
) -> None:
    low = min(price, lower)
    if alert_is_due(price=price, price_max=threshold, baseline_price=baseline):
        assert alert_is_due(price=low, price_max=threshold, baseline_price=baseline)
    # an "any drop" alert never fires at or above the price it was made at
    assert not alert_is_due(price=baseline, price_max=None, baseline_price=baseline)
