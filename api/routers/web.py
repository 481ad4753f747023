"""The browser side: the demo shop page (``/``), the embeddable widget (``/widget.js``, ``/widget.css``),
the staff console (``/staff``), its analytics page (``/staff/analytics``) and the other files of
``api/static`` under ``/static/``."""

from __future__ import annotations

import base64
import hashlib
import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, FastAPI
from fastapi import Path as PathParam
from fastapi.responses import FileResponse

from assistant.errors import NotFound

__all__ = ["STATIC_DIR", "include", "router"]

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"

router = APIRouter(include_in_schema=False)

TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".ico": "image/x-icon",
}
# Pages are revalidated every time (the ETag makes that cheap); assets are cached for a short while
# and revalidated, since their URLs carry no version.
PAGE_CACHE = "no-cache"
ASSET_CACHE = "public, max-age=300, must-revalidate"
# The pages load only their own scripts and styles; images may come from catalog hosts.
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob: https: http:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'self'"
)


_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)


@lru_cache(maxsize=32)
def _csp(path: Path, mtime_ns: int) -> str:
    """The page CSP, with a hash for each inline ``<script>`` of the page (and nothing else inline)."""
    text = path.read_text(encoding="utf-8")
    hashes = [
        "'sha256-" + base64.b64encode(hashlib.sha256(m.group(1).encode()).digest()).decode() + "'"
        for m in _INLINE_SCRIPT.finditer(text)
    ]
    return PAGE_CSP.replace("script-src 'self'", " ".join(["script-src 'self'", *hashes]))


def _file(name: str, *, page: bool = False) -> FileResponse:
    path = (STATIC_DIR / name).resolve()
    if STATIC_DIR not in path.parents or not path.is_file() or path.suffix not in TYPES:
        raise NotFound(f"no file {name!r}")
    headers = {
        "Cache-Control": PAGE_CACHE if page else ASSET_CACHE,
        "X-Content-Type-Options": "nosniff",
    }
    if page:
        headers["Content-Security-Policy"] = _csp(path, path.stat().st_mtime_ns)
        headers["Referrer-Policy"] = "same-origin"
    return FileResponse(path, media_type=TYPES[path.suffix], headers=headers)


@router.get("/")
def index() -> FileResponse:
    return _file("index.html", page=True)


@router.get("/staff")
def staff_console() -> FileResponse:
    return _file("staff.html", page=True)


@router.get("/staff/analytics")
def staff_analytics() -> FileResponse:
    return _file("analytics.html", page=True)


@router.get("/widget.js")
def widget_js() -> FileResponse:
    return _file("widget.js")


@router.get("/widget.css")
def widget_css() -> FileResponse:
    return _file("widget.css")


@router.get("/static/{name}")
def static_file(
    name: Annotated[str, PathParam(pattern=r"^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,100}$")],
) -> FileResponse:
    return _file(name, page=name.endswith(".html"))


def include(app: FastAPI) -> None:
    """Mount the browser routes on ``app`` (after the API routers)."""
    app.include_router(router)
