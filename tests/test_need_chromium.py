"""`make test` and `make bench` without headless Chromium stop at once, and a page test fails, saying what to run."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.browser import chromium_driver

ROOT = Path(__file__).resolve().parents[1]
CHECK = ROOT / ".ci" / "need-chromium"


def without_chromium(tmp_path: Path) -> dict[str, str]:
    """The environment of a machine whose browser and driver are not where they are looked for."""
    return {
        **os.environ,
        "TUNELAKE_CHROMIUM": str(tmp_path / "absent" / "chromium"),
        "TUNELAKE_CHROMEDRIVER": str(tmp_path / "absent" / "chromedriver"),
    }


def test_the_check_stops_with_exit_3_naming_the_command_and_what_is_missing(tmp_path):
    checked = subprocess.run(
        [CHECK, "make test"], env=without_chromium(tmp_path), capture_output=True, text=True, timeout=30, check=False
    )
    assert checked.returncode == 3
    first_line = checked.stderr.splitlines()[0]
    assert first_line.startswith("make test needs Chromium: run `")
    assert "make system-deps`" in first_line
    assert str(tmp_path / "absent" / "chromium") in checked.stderr
    assert str(tmp_path / "absent" / "chromedriver") in checked.stderr
    assert '-m "not browser"' in checked.stderr


def test_the_check_accepts_a_browser_and_driver_given_by_path(tmp_path):
    for name in ("chromium", "chromedriver"):
        program = tmp_path / name
        program.write_text("#!/bin/sh\n")
        program.chmod(0o755)
    environment = {
        **os.environ,
        "TUNELAKE_CHROMIUM": str(tmp_path / "chromium"),
        "TUNELAKE_CHROMEDRIVER": str(tmp_path / "chromedriver"),
    }
    checked = subprocess.run(
        [CHECK, "make test"], env=environment, capture_output=True, text=True, timeout=30, check=False
    )
    assert (checked.returncode, checked.stdout, checked.stderr) == (0, "", "")


@pytest.mark.parametrize("target", ["test", "bench"])
def test_make_stops_before_installing_or_running_anything_without_chromium(tmp_path, target):
    # Its own session, so that a broken check (make going on to install and run the suite) is killed whole.
    started = time.monotonic()
    process = subprocess.Popen(
        ["make", "--no-print-directory", target],
        cwd=ROOT,
        env=without_chromium(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert time.monotonic() - started < 10
    assert process.returncode != 0
    assert f"make {target} needs Chromium: run `" in output
    assert "Error 3" in output
    started_commands = [line for line in output.splitlines() if line.startswith(".venv/bin/")]
    assert started_commands == [], "make installed or ran something before the check"


def test_a_page_test_fails_rather_than_skips_without_chromium(tmp_path, monkeypatch):
    for name, value in without_chromium(tmp_path).items():
        if name.startswith("TUNELAKE_CHROM"):
            monkeypatch.setenv(name, value)
    with pytest.raises((pytest.fail.Exception, pytest.skip.Exception)) as stopped:
        chromium_driver()
    assert stopped.type is pytest.fail.Exception
    assert "make system-deps" in str(stopped.value)
    assert str(tmp_path / "absent" / "chromium") in str(stopped.value)
