"""Browser-test helpers: a real server that serves the widget, and a headless Chromium (Selenium)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tests.e2e._server import Server, start

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
# read at import: tests/conftest.py hides SHOPASSIST_* variables from the tests themselves
ARTIFACTS = os.environ.get("SHOPASSIST_ARTIFACTS")


def missing_browser() -> str | None:
    """Why the browser tests cannot run here (None when they can)."""
    for exe in (CHROMIUM, CHROMEDRIVER):
        if not exe.exists():
            return f"{exe} is missing (apt-get install -y chromium chromium-driver)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install selenium)"
    return None


def start_web(data: Path, *, timeout_s: float = 90) -> Server:
    """The real `shopassist serve`, which serves the widget, the demo page and the staff console."""
    return start(data, timeout_s=timeout_s)


def chrome(width: int = 1280, height: int = 900) -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = str(CHROMIUM)
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        f"--window-size={width},{height}",
    ):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=opts)


def artifacts_dir(tmp_path: Path) -> Path:
    out = Path(ARTIFACTS) / "browser" if ARTIFACTS else tmp_path / "browser-artifacts"
    out.mkdir(parents=True, exist_ok=True)
    return out


__all__ = ["artifacts_dir", "chrome", "missing_browser", "start_web"]
