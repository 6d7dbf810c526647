"""Headless Chromium for page tests (test support): Debian's chromium and chromium-driver.

No browser is ever downloaded: the driver and the browser are given by path, so Selenium
Manager has nothing to fetch. Where they are missing a page test fails, naming the command that
installs them: a skipped browser test reads as a pass in a summary nobody scrolls (`make test`
checks for them before it starts, `.ci/need-chromium`). To run the suite without them, deselect
the tests with `-m "not browser"`.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


def browser_paths() -> tuple[Path, Path]:
    """Chromium and its driver: Debian's, unless TUNELAKE_CHROMIUM / TUNELAKE_CHROMEDRIVER (as `.ci/need-chromium`)."""
    return (
        Path(os.environ.get("TUNELAKE_CHROMIUM", "/usr/bin/chromium")),
        Path(os.environ.get("TUNELAKE_CHROMEDRIVER", "/usr/bin/chromedriver")),
    )


# What the dashboard benchmark checks before it starts.
CHROMIUM, CHROMEDRIVER = browser_paths()


def chromium_driver(width: int = 1600, height: int = 1000):
    chromium, chromedriver = browser_paths()
    missing = [str(path) for path in (chromium, chromedriver) if not os.access(path, os.X_OK)]
    if missing:
        pytest.fail(
            f"headless Chromium is needed, not found: {' and '.join(missing)}. Run `sudo make system-deps` "
            "(Debian's chromium and chromium-driver), or deselect the browser tests with -m 'not browser'",
            pytrace=False,
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(chromium)
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--window-size={width},{height}",
    ):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(executable_path=str(chromedriver)), options=options)


def artifact(name: str) -> Path:
    """Where a test keeps a screenshot (git-ignored `artifacts/`)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    if path.exists():
        path.unlink()
    return path
