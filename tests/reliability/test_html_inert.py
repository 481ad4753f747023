"""Text that looks like HTML stays text: the API returns catalog and shopper text exactly, as JSON;
the pages never inline that text (they fetch JSON), and the scripts put it into the page as text.

The real-browser check of one HTML-looking product title is ``tests/e2e/test_browser.py``; this
module covers the server's side and the scripts' sources, without a browser.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.reliability.conftest import XSS_DESCRIPTION, XSS_ID, XSS_TITLE, auth

STATIC = Path(__file__).resolve().parents[2] / "api" / "static"
HTML_MESSAGE = (
    '<script>alert("chat")</script> show me <img src=x onerror=alert(2)> black backpacks & <b>more</b>'
)
MARKERS = ("alert(1)", "alert(2)", 'alert("chat")', "onerror=", XSS_TITLE, "Midnight")


def test_catalog_text_comes_back_exactly_as_json(client: TestClient) -> None:
    r = client.get(f"/v1/products/{XSS_ID}")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert body["title"] == XSS_TITLE
    assert body["description"] == XSS_DESCRIPTION

    found = client.get("/v1/products/search", params={"q": "midnight daypack", "limit": 5}).json()
    titles = {p["id"]: p["title"] for p in found["products"]}
    assert titles.get(XSS_ID) == XSS_TITLE, titles


def test_chat_returns_html_looking_text_as_exact_text(client: TestClient, staff_key: str) -> None:
    first = client.post(
        "/v1/chat", json={"session_id": None, "message": "show me midnight daypack backpacks"}
    )
    assert first.status_code == 200, first.text
    sid = first.json()["session_id"]
    cards = {p["id"]: p for p in first.json()["products"]}
    assert XSS_ID in cards, list(cards)
    assert cards[XSS_ID]["title"] == XSS_TITLE

    turn = client.post("/v1/chat", json={"session_id": sid, "message": HTML_MESSAGE})
    assert turn.status_code == 200, turn.text
    assert turn.headers["content-type"].startswith("application/json")

    history = client.get(f"/v1/sessions/{sid}").json()
    assert history["turns"][-1]["message"] == HTML_MESSAGE.strip()

    staff = client.get(f"/v1/staff/conversations/{sid}", headers=auth(staff_key)).json()
    assert staff["turns"][-1]["message"] == HTML_MESSAGE.strip()  # nothing personal in it to mask
    listed = client.get("/v1/staff/conversations", params={"q": "onerror"}, headers=auth(staff_key)).json()
    assert [c["last_message"] for c in listed["conversations"] if c["id"] == sid] == [HTML_MESSAGE.strip()]


def test_the_chat_stream_carries_html_looking_text_inside_json(client: TestClient) -> None:
    import json

    r = client.post(
        "/v1/chat/stream", json={"session_id": None, "message": "show me midnight daypack backpacks"}
    )
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/event-stream")
    done = [
        json.loads(line.removeprefix("data:").strip())
        for line in r.text.splitlines()
        if line.startswith("data:") and '"turn_id"' in line and '"reply"' in line
    ]
    assert done, r.text[:500]
    cards = {p["id"]: p for p in done[-1]["products"]}
    assert cards[XSS_ID]["title"] == XSS_TITLE
    # every data line is one JSON document: the text only ever travels inside JSON strings
    for line in r.text.splitlines():
        if line.startswith("data:"):
            json.loads(line.removeprefix("data:").strip())


@pytest.mark.parametrize("page", ["/", "/staff", "/widget.js", "/static/staff.js"])
def test_pages_and_scripts_never_inline_catalog_or_chat_text(client: TestClient, page: str) -> None:
    """After the probe product is in the catalog and HTML was typed into the chat, the pages are
    still the static files: they fetch everything shown from the JSON API."""
    client.post("/v1/chat", json={"session_id": None, "message": HTML_MESSAGE})
    r = client.get(page)
    assert r.status_code == 200
    for marker in MARKERS:
        assert marker not in r.text, f"{page} contains {marker!r}"
    name = {"/": "index.html", "/staff": "staff.html", "/widget.js": "widget.js"}.get(
        page, page.split("/")[-1]
    )
    assert r.text == (STATIC / name).read_text(encoding="utf-8")


@pytest.mark.parametrize("page", ["/", "/staff"])
def test_pages_allow_no_inline_script_but_their_own(client: TestClient, page: str) -> None:
    r = client.get(page)
    csp = r.headers["content-security-policy"]
    script_src = next(d for d in csp.split(";") if d.strip().startswith("script-src")).split()[1:]
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src, csp
    assert all(s == "'self'" or s.startswith("'sha256-") for s in script_src), csp
    assert "object-src 'none'" in csp
    assert r.headers["x-content-type-options"] == "nosniff"


# ---------------------------------------------------------------------------- the scripts' sources

#: ways of turning a string into markup or code
SINKS = re.compile(
    r"\.(innerHTML|outerHTML)\s*\+?=|insertAdjacentHTML|document\.write|\beval\s*\(|new\s+Function\s*\("
    r"|createContextualFragment|DOMParser|\.srcdoc\b|setTimeout\s*\(\s*[\"'`]|setInterval\s*\(\s*[\"'`]"
)
#: the one harmless form: clearing an element (``x.innerHTML = ""``)
CLEARING = re.compile(r"\.innerHTML\s*=\s*(\"\"|'')\s*;")


def _scripts() -> list[tuple[str, str]]:
    out = [(p.name, p.read_text(encoding="utf-8")) for p in sorted(STATIC.glob("*.js"))]
    for page in sorted(STATIC.glob("*.html")):
        for i, m in enumerate(re.finditer(r"<script>(.*?)</script>", page.read_text(encoding="utf-8"), re.S)):
            out.append((f"{page.name}#inline{i}", m.group(1)))
    return out


def _code(text: str) -> str:
    """The source without comments (a comment may name a sink to say it is not used)."""
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return re.sub(r"(?m)(^|[^:\"'\\])//.*$", r"\1", text)


def test_scripts_have_no_html_or_code_sinks() -> None:
    scripts = _scripts()
    assert {"widget.js", "staff.js", "staff-common.js", "analytics.js"} <= {name for name, _ in scripts}
    found = []
    for name, text in scripts:
        code = CLEARING.sub("", _code(text))
        for m in SINKS.finditer(code):
            line = code[: m.start()].count("\n") + 1
            found.append(f"{name}:{line}: {code.splitlines()[line - 1].strip()}")
    assert not found, "markup/code sinks in the browser scripts:\n" + "\n".join(found)


def test_scripts_put_text_in_as_text() -> None:
    """The element helpers set ``textContent``; the reply bubble and the cards go through them."""
    widget = _code((STATIC / "widget.js").read_text(encoding="utf-8"))
    # the staff console's and the analytics page's element helper lives in staff-common.js
    staff = _code((STATIC / "staff-common.js").read_text(encoding="utf-8"))
    assert "node.textContent = String(text)" in widget
    assert "node.textContent = String(text)" in staff
    assert "bubble.textContent = resp.reply" in widget


def test_urls_from_data_are_only_http_or_https() -> None:
    """A catalog ``image_url`` such as ``javascript:…`` never becomes a link or image source: the
    widget passes every URL from the API through ``abs()``, which keeps http(s) only."""
    widget = _code((STATIC / "widget.js").read_text(encoding="utf-8"))
    abs_fn = re.search(r"function abs\(url\) \{(.*?)\n  \}", widget, re.S)
    assert abs_fn, "widget.js has no abs() URL filter"
    assert 'u.protocol === "http:" || u.protocol === "https:"' in abs_fn.group(1)
    for m in re.finditer(r"[\w.]*image_url\b", widget):
        before = widget[max(0, m.start() - 4) : m.start()]
        assert before == "abs(", f"image_url used without abs(): ...{widget[m.start() - 40 : m.end() + 20]}"
    # every src/href attribute the scripts set comes from abs(), a blob: URL they made, or their own files
    for name, text in _scripts():
        for m in re.finditer(r"[{,]\s*(src|href)\s*:\s*([^,}\n]+)", _code(text)):
            value = m.group(2).strip()
            assert re.fullmatch(r"(src|url|imageUrl|abs\(.*\)|new URL\(\"[\w.]+\")", value), (
                f"{name}: {m.group(0)}"
            )
