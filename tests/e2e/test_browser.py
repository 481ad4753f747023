"""A real browser (headless Chromium, Selenium) against a real server: the demo page, the chat widget
(search, refine, cart, checkout, photo search), the staff console, and catalog text that looks like HTML."""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e._browser import artifacts_dir, chrome, missing_browser, start_web
from tests.e2e._server import REPO, cli, prepare, server_env

_REASON = missing_browser()
pytestmark = [pytest.mark.slow, pytest.mark.skipif(_REASON is not None, reason=_REASON or "")]

XSS_TITLE = "<img src=x onerror=alert(1)>"
XSS_ID = "XSS-PROBE-1"
EMAIL = "jane@example.com"
ADDRESS = "Jane Doe, 1 Main St, Springfield, IL 62701, US"
DEMO_IMAGES = REPO / "data" / "demo" / "images"
WAIT_S = 60


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, nlu_model_dir: Path) -> Iterator[tuple[str, Path]]:
    data = tmp_path_factory.mktemp("browser") / "var"
    setup = prepare(data, nlu_model_dir)
    assert setup.returncode == 0, setup.stderr
    probe = data.parent / "probe.jsonl"
    probe.write_text(
        json.dumps(
            {
                "id": XSS_ID,
                "title": XSS_TITLE,
                "description": "A probe product whose title looks like HTML.",
                "product_type": "backpack",
                "category": "Accessories > Bags > Backpacks",
                "brand": "Probe",
                "price": 19.99,
                "currency": "USD",
                "rating": 4.0,
                "in_stock": True,
                "attributes": {"color": "red"},
            }
        )
        + "\n",
        encoding="utf-8",
    )
    ingest = subprocess.run(
        [*cli(), "ingest", str(probe)], cwd=REPO, env=server_env(data), capture_output=True, text=True
    )
    assert ingest.returncode == 0, ingest.stderr
    srv = start_web(data)
    yield srv.base, data
    srv.stop()


@pytest.fixture
def driver() -> Iterator[Any]:
    d = chrome()
    try:
        yield d
    finally:
        d.quit()


class Steps:
    """Screenshots named by step, in one folder per test."""

    def __init__(self, driver: Any, folder: Path) -> None:
        self.driver, self.folder, self.n = driver, folder, 0

    def shot(self, name: str) -> None:
        self.n += 1
        self.driver.save_screenshot(str(self.folder / f"{self.n:02d}-{name}.png"))


def wait(driver: Any, cond: Callable[[Any], Any], timeout: float = WAIT_S, what: str = "") -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.2).until(cond, message=what)


def css(driver: Any, selector: str) -> list[Any]:
    from selenium.webdriver.common.by import By

    return list(driver.find_elements(By.CSS_SELECTOR, selector))


def idle(driver: Any) -> bool:
    return bool(
        driver.execute_script(
            "var r = document.querySelector('.sa-root');"
            "return r && r.getAttribute('data-busy') !== 'true' && !document.querySelector('[data-pending]');"
        )
    )


def say(driver: Any, text: str) -> Any:
    """Type a message, wait for the streamed reply, return the last bot message element."""
    n = len(css(driver, ".sa-msg-bot"))
    box = css(driver, ".sa-input")[0]
    box.clear()
    box.send_keys(text)
    css(driver, ".sa-send")[0].click()
    wait(driver, lambda d: len(css(d, ".sa-msg-bot")) > n and idle(d), what=f"a reply to {text!r}")
    return css(driver, ".sa-msg-bot")[-1]


def open_widget(driver: Any, base: str) -> None:
    driver.get(base + "/")
    wait(driver, lambda d: css(d, ".sa-launcher"), what="the widget launcher")
    css(driver, ".sa-launcher")[0].click()
    wait(driver, lambda d: css(d, ".sa-panel")[0].is_displayed(), what="the chat panel")


def staff_key(data: Path, role: str = "staff") -> str:
    out = subprocess.run(
        [*cli(), "keys", "create", "--role", role],
        cwd=REPO,
        env=server_env(data),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    last = out.stdout.strip().splitlines()[-1]
    try:
        return str(json.loads(last)["key"])
    except (ValueError, KeyError, TypeError):
        return last.strip()


def test_static_routes_have_types_and_caching(site: tuple[str, Path]) -> None:
    base, _ = site
    for path, ctype in [
        ("/", "text/html"),
        ("/staff", "text/html"),
        ("/widget.js", "text/javascript"),
        ("/widget.css", "text/css"),
        ("/static/staff.js", "text/javascript"),
        ("/staff/analytics", "text/html"),
        ("/static/analytics.js", "text/javascript"),
        ("/static/staff-common.js", "text/javascript"),
        ("/static/analytics.css", "text/css"),
    ]:
        r = httpx.get(base + path)
        assert r.status_code == 200, path
        assert r.headers["content-type"].startswith(ctype), path
        assert r.headers["cache-control"], path
    assert "script-src 'self'" in httpx.get(base + "/").headers["content-security-policy"]
    assert httpx.get(base + "/static/..%2Fapp.py").status_code == 404
    assert httpx.get(base + "/static/nope.js").status_code == 404


def test_shopper_journey_and_staff_review(site: tuple[str, Path], driver: Any, tmp_path: Path) -> None:
    base, data = site
    out = artifacts_dir(tmp_path) / "journey"
    out.mkdir(parents=True, exist_ok=True)
    print(f"screenshots: {out}")
    steps = Steps(driver, out)
    started = time.monotonic()

    driver.get(base + "/")
    wait(driver, lambda d: css(d, ".demo-tile"), what="product tiles on the demo page")
    steps.shot("demo-page")

    open_widget(driver, base)
    assert driver.switch_to.active_element == css(driver, ".sa-input")[0], "focus moves into the panel"
    panel = css(driver, ".sa-panel")[0]
    assert panel.get_attribute("role") == "dialog"
    assert css(driver, ".sa-messages")[0].get_attribute("aria-live") == "polite"
    steps.shot("widget-open")

    first = say(driver, "show me black backpacks")
    cards = first.find_elements("css selector", ".sa-card")
    assert cards, first.text
    assert all(c.find_element("css selector", ".sa-card-title").text for c in cards)
    assert css(driver, ".sa-chip") or True  # suggestions are optional for a search
    sid = driver.execute_script("return window.ShopAssistWidget.session()")
    assert sid
    steps.shot("search-cards")

    refined = say(driver, "under $60")
    cards = refined.find_elements("css selector", ".sa-card")
    assert cards, refined.text
    prices = [
        float(re.sub(r"[^0-9.]", "", c.find_element("css selector", ".sa-card-price").text)) for c in cards
    ]
    assert all(p <= 60 for p in prices), prices
    steps.shot("refined")

    title = cards[0].find_element("css selector", ".sa-card-title").text
    cards[0].find_element("css selector", ".sa-add").click()
    wait(driver, lambda d: css(d, ".sa-badge")[0].text == "1", what="the cart badge")
    css(driver, ".sa-cart-btn")[0].click()
    wait(driver, lambda d: css(d, ".sa-cart-line"), what="a cart line")
    assert css(driver, ".sa-cart-line-title")[0].text == title
    assert "Total" in css(driver, ".sa-cart-total")[0].text
    steps.shot("cart-drawer")
    cart = httpx.get(f"{base}/v1/sessions/{sid}/cart").json()
    assert [i["quantity"] for i in cart["items"]] == [1]

    n = len(css(driver, ".sa-msg-bot"))
    css(driver, ".sa-checkout")[0].click()
    wait(driver, lambda d: len(css(d, ".sa-msg-bot")) > n and idle(d), what="the checkout reply")
    assert css(driver, ".sa-msg-bot")[-1].get_attribute("data-action") == "collect_checkout_details"
    say(driver, EMAIL)
    confirm = say(driver, ADDRESS)
    assert confirm.get_attribute("data-action") == "confirm_order", confirm.text
    steps.shot("confirm")
    placed = say(driver, "yes please")
    assert placed.get_attribute("data-action") == "order_placed", placed.text
    order_id = placed.find_element("css selector", ".sa-order-id").text
    assert re.fullmatch(r"[A-Z0-9]{8}", order_id), order_id
    assert css(driver, ".sa-badge")[0].text == "0"
    steps.shot("order-placed")

    photo = sorted(DEMO_IMAGES.glob("*.jpg"))[0]
    n = len(css(driver, ".sa-msg-bot"))
    css(driver, ".sa-file")[0].send_keys(str(photo))
    wait(driver, lambda d: len(css(d, ".sa-msg-bot")) > n and idle(d), what="the photo search reply")
    assert css(driver, ".sa-upload-thumb")
    assert css(driver, ".sa-msg-bot")[-1].find_elements("css selector", ".sa-card")
    steps.shot("photo-search")

    # a reload restores the conversation from the server
    driver.refresh()
    wait(driver, lambda d: css(d, ".sa-launcher"), what="the launcher after reload")
    css(driver, ".sa-launcher")[0].click()
    wait(driver, lambda d: len(css(d, ".sa-msg-user")) >= 6, what="the restored conversation")
    assert driver.execute_script("return window.ShopAssistWidget.session()") == sid
    assert order_id in css(driver, ".sa-messages")[0].text
    steps.shot("restored")
    css(driver, ".sa-input")[0].send_keys("\ue00c")  # Escape closes the panel
    wait(driver, lambda d: not css(d, ".sa-panel")[0].is_displayed(), what="Escape closes")

    # staff: sign in, find the conversation by text, masked PII, intent + confidence, correct a label
    key = staff_key(data)
    driver.get(base + "/staff")
    css(driver, "#key")[0].send_keys(key)
    css(driver, "#signin-form button")[0].click()
    wait(driver, lambda d: css(d, "#console")[0].is_displayed(), what="the console after sign-in")
    css(driver, "#f-q")[0].send_keys("black backpacks")
    css(driver, "#filters button")[0].click()
    wait(
        driver,
        lambda d: css(d, f'.st-conv[data-session-id="{sid}"]'),
        what="the shopper's conversation in the list",
    )
    steps.shot("staff-list")
    css(driver, f'.st-conv[data-session-id="{sid}"] button')[0].click()
    wait(driver, lambda d: css(d, ".st-turn"), what="the transcript")
    page = driver.find_element("tag name", "body").text
    assert EMAIL not in page and EMAIL not in driver.page_source
    assert "show me black backpacks" in page
    assert css(driver, ".st-intent")[0].text == "search"
    assert re.fullmatch(r"\d\.\d\d", css(driver, ".st-conf")[0].text.strip())
    assert order_id in page
    steps.shot("staff-transcript")

    turn = css(driver, ".st-turn")[1]
    turn_id = turn.get_attribute("data-turn-id")
    from selenium.webdriver.support.ui import Select

    Select(turn.find_element("css selector", ".st-label-intent")).select_by_value("refine")
    slots = turn.find_element("css selector", ".st-label-slots")
    slots.clear()
    slots.send_keys('{"price_max": 60}')
    turn.find_element("css selector", ".st-label-save").click()
    wait(
        driver,
        lambda d: css(d, f'.st-turn[data-turn-id="{turn_id}"] .st-labels'),
        what="the saved label",
    )
    steps.shot("staff-label")
    export = httpx.get(f"{base}/v1/staff/labels/export", headers={"Authorization": f"Bearer {key}"})
    assert '"refine"' in export.text
    print(f"journey took {time.monotonic() - started:.1f} s")


def test_html_in_catalog_text_stays_text(site: tuple[str, Path], driver: Any, tmp_path: Path) -> None:
    base, _ = site
    out = artifacts_dir(tmp_path) / "xss"
    out.mkdir(parents=True, exist_ok=True)
    print(f"screenshots: {out}")
    steps = Steps(driver, out)
    open_widget(driver, base)
    driver.execute_script(
        "window.__alerted = false; window.alert = function () { window.__alerted = true; };"
    )
    say(driver, "show me backpacks")
    sid = driver.execute_script("return window.ShopAssistWidget.session()")
    r = httpx.post(f"{base}/v1/sessions/{sid}/cart/items", json={"product_id": XSS_ID, "quantity": 1})
    assert r.status_code == 200, r.text
    # the probe as a card: shown through the same rendering path as a search result
    driver.execute_script(
        "var p = arguments[0]; window.ShopAssistWidget._render({reply: p.title, products: [p],"
        " suggestions: [p.title], notices: [], cart: null, order: null, price_advice: null});",
        httpx.get(f"{base}/v1/products/{XSS_ID}").json(),
    )
    say(driver, XSS_TITLE)
    css(driver, ".sa-cart-btn")[0].click()
    wait(driver, lambda d: css(d, ".sa-cart-line"), what="the probe in the cart")
    steps.shot("probe")
    text = css(driver, ".sa-root")[0].text
    assert XSS_TITLE in css(driver, ".sa-cart-lines")[0].text
    assert XSS_TITLE in text
    titles = [e.text for e in css(driver, ".sa-card-title")]
    assert XSS_TITLE in titles
    assert not driver.execute_script("return window.__alerted")
    assert not css(driver, 'img[src="x"]')
    assert not [
        s
        for s in driver.execute_script(
            "return Array.from(document.images).map(function (i) { return i.src; })"
        )
        if s.endswith("/x")
    ]


def test_narrow_screen_price_sparkline_and_staff_notice(site: tuple[str, Path], tmp_path: Path) -> None:
    base, data = site
    out = artifacts_dir(tmp_path) / "narrow"
    out.mkdir(parents=True, exist_ok=True)
    print(f"screenshots: {out}")
    d = chrome(360, 740)
    try:
        steps = Steps(d, out)
        d.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": 360, "height": 740, "deviceScaleFactor": 1, "mobile": True},
        )
        open_widget(d, base)
        assert d.execute_script("return window.innerWidth") == 360
        width = d.execute_script("return document.querySelector('.sa-panel').getBoundingClientRect().width")
        assert width <= d.execute_script("return window.innerWidth")
        assert css(d, ".sa-input")[0].is_displayed() and css(d, ".sa-send")[0].is_displayed()
        say(d, "show me watches under $200")
        sid = d.execute_script("return window.ShopAssistWidget.session()")
        key = staff_key(data)
        r = httpx.post(
            f"{base}/v1/staff/conversations/{sid}/messages",
            json={"text": "Hi, Sam from support here."},
            headers={"Authorization": f"Bearer {key}"},
        )
        assert r.status_code == 201, r.text
        advice = say(d, "is now a good time to buy the first one or should I wait")
        assert advice.get_attribute("data-action") == "price_advice", advice.text
        wait(d, lambda dr: css(dr, ".sa-msg-bot .sa-spark polyline"), what="the price sparkline")
        wait(d, lambda dr: css(dr, ".sa-notice"), what="the staff message notice")
        assert "Sam from support" in css(d, ".sa-notice")[-1].text
        steps.shot("narrow-advice-notice")

        # offline: the widget shows "reconnecting" and retries the turn with backoff once back online
        offline = {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}
        d.execute_cdp_cmd("Network.enable", {})
        d.execute_cdp_cmd("Network.emulateNetworkConditions", offline)
        n = len(css(d, ".sa-msg-bot"))
        css(d, ".sa-input")[0].send_keys("show me belts")
        css(d, ".sa-send")[0].click()
        wait(d, lambda dr: css(dr, ".sa-status")[0].is_displayed(), what="the reconnecting state")
        assert "Reconnecting" in css(d, ".sa-status")[0].text
        steps.shot("reconnecting")
        d.execute_cdp_cmd("Network.emulateNetworkConditions", {**offline, "offline": False})
        wait(d, lambda dr: len(css(dr, ".sa-msg-bot")) > n and idle(dr), what="the retried turn")
        assert css(d, ".sa-msg-bot")[-1].find_elements("css selector", ".sa-card")
        assert not css(d, ".sa-status")[0].is_displayed()

        css(d, ".sa-close")[0].click()
        assert not css(d, ".sa-panel")[0].is_displayed()
        assert d.switch_to.active_element == css(d, ".sa-launcher")[0], "focus returns to the launcher"
    finally:
        d.quit()


def test_staff_analytics_page_draws_the_funnel_and_unanswered_searches(
    site: tuple[str, Path], driver: Any, tmp_path: Path
) -> None:
    base, data = site
    out = artifacts_dir(tmp_path) / "analytics"
    out.mkdir(parents=True, exist_ok=True)
    print(f"screenshots: {out}")
    steps = Steps(driver, out)
    # some traffic of its own: a search the catalog cannot answer, one that it can, a cart add
    journeys = (["show me purple unicorn lamps"], ["show me black watches", "add the first one to my cart"])
    for messages in journeys:
        sid = None
        for message in messages:
            r = httpx.post(f"{base}/v1/chat", json={"session_id": sid, "message": message}, timeout=60)
            assert r.status_code == 200, r.text
            sid = r.json()["session_id"]
    key = staff_key(data)
    driver.get(base + "/staff/analytics")
    css(driver, "#key")[0].send_keys(key)
    css(driver, "#signin-form button")[0].click()
    wait(driver, lambda d: len(css(d, "#funnel svg rect")) == 6, what="the six funnel bars")
    wait(driver, lambda d: css(d, "#trend svg polyline"), what="the intent trend lines")
    page = driver.find_element("tag name", "body").text
    assert "Searched" in page and "Added to cart" in page
    zero = [row.text for row in css(driver, "#zero-rows tr")]
    assert any("purple unicorn lamps" in row for row in zero), zero
    assert int(css(driver, ".an-tile b")[0].text) >= 2  # sessions
    headers = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert all(h.startswith(base) for h in headers), "no CDN or other host"
    steps.shot("analytics")
