"""Headless Chromium for page tests (test support): Debian's chromium and chromium-driver.

No browser is ever downloaded: the driver and the browser are given by path, so Selenium
Manager has nothing to fetch. Where they are missing the test is skipped, except in CI
(`.ci/run` installs them), where it fails.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


def chromium_driver(width: int = 1600, height: int = 1000):
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        message = "Debian's chromium and chromium-driver are needed (apt-get install chromium chromium-driver)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
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
    return webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)


def artifact(name: str) -> Path:
    """Where a test keeps a screenshot (git-ignored `artifacts/`)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    if path.exists():
        path.unlink()
    return path
