"""Dashboard: time until each page has drawn all its charts in headless Chromium, against 2 seconds.

The marts are built in a temporary folder as `make demo` builds them: the sandbox (development
tier, seed 42) with the demo's tracked playlists, artists, albums and searches and the user's
listening, ingested for 3 days (2 with --quick), then `dbt build` in its own process on a copy of
the project (never `dbt_project/` itself, whose `target/` the tests use). The dashboard runs as
`make dashboard` runs it (`streamlit run dashboard/app.py`, headless, on 127.0.0.1).

For each page, on a server started for that page and a new Chromium profile:

- cold: the first load after the server started, so Python imports, the warehouse queries and
  the browser's download of Streamlit's scripts are all in it;
- warm: the median of 3 reloads, with the queries answered from the dashboard's cache and the
  scripts from the browser's;
- restarted: the server stopped and started again on the same port, then one more load: the
  server starts from nothing (imports, empty query cache) while the browser keeps Streamlit's
  scripts, as for someone who reopens the dashboard after `make dashboard` was restarted.

The same three figures for a page of Streamlit alone (a title and 4 tiny charts) give the
start-up cost any Streamlit app pays on the machine, apart from the dashboard's own.

The dashboard's server warms up as it starts, before its first answer (`dashboard/warm_up.py`:
imports, the default page's queries). Beside each cold load: the time from spawning the server
to its first answer, which holds that work, and from spawning to the page drawn; and the same
two figures with the pages served without the warm-up (`streamlit run dashboard/pages.py`), as
before issue 19.

A page has rendered when no script runs and every chart it draws on the demo data holds vega
marks; the clock runs from the navigation to that moment, polled every 25 ms. Chromium and the
server share the machine, as they do on a laptop.

    python -m benchmarks.bench_dashboard [--quick]
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

from tests.dashboard_server import APP, PAGES_SCRIPT, WAIT_SECONDS, dbt_build, free_port, start_dashboard, stop

GOAL_SECONDS = 2.0
SEED = 42
LAST_DAY = date(2026, 11, 3)
DAYS, QUICK_DAYS = 3, 2
WARM_RELOADS = 3


@dataclass(frozen=True)
class Page:
    title: str
    path: str
    charts: int


# The charts each page draws on the demo data (see tests/test_dashboard.py).
PAGES = [
    Page("Catalog overview", "", 4),
    Page("Popularity trends", "trends", 5),
    Page("Playlist reach", "playlists", 4),
    Page("My listening", "listening", 5),
]
# The same measure on Streamlit alone: a title and 4 tiny charts, to tell its own start-up cost
# (Python imports, the browser loading its scripts) from the dashboard's.
FLOOR = Page("Streamlit alone", "", 4)
FLOOR_SCRIPT = """
import altair as alt
import pandas as pd
import streamlit as st

st.title("Streamlit alone")
frame = pd.DataFrame({"x": [1, 2, 3], "y": [3, 1, 2]})
for _ in range(4):
    st.altair_chart(alt.Chart(frame).mark_bar().encode(x=alt.X("x:O"), y=alt.Y("y:Q")))
"""
RENDERED = """
const charts = [...document.querySelectorAll('[data-testid="stVegaLiteChart"]')];
const drawn = charts.filter(c => c.querySelector('svg.marks .role-mark > *, canvas.marks')).length;
const heading = [...document.querySelectorAll('h1')].some(h => h.textContent.includes(arguments[0]));
const running = document.querySelector('[data-testid="stStatusWidget"]') !== null;
const failed = document.querySelector('[data-testid="stException"], [data-testid="stAlertContentError"]');
return {drawn: drawn, heading: heading, running: running, failed: failed ? failed.innerText : null};
"""


@dataclass
class Timing:
    page: Page
    cold: float
    warm: list[float]
    restarted: float
    # Seconds from spawning the server to its first answer, at the cold start.
    started: float
    # Spawn to first answer, and the cold load, with the pages served without the start-up warm-up.
    unwarmed: tuple[float, float] | None = None

    @property
    def warm_median(self) -> float:
        return statistics.median(self.warm)


# -- the marts -------------------------------------------------------------------------------------


def build_marts(root: Path, days: int) -> Path:
    """The demo's marts under `root`: sandbox days through the loader, then `dbt build` in a subprocess."""
    from ingestion.config import Settings
    from sandbox.demo import demo_days, ingest_sandbox_days

    # The demo tracks playlists a development app may not read: their 404s are expected, not news.
    logging.getLogger("spotipy").setLevel(logging.CRITICAL)
    settings = Settings(
        raw_zone_url=str(root / "raw"), duckdb_path=str(root / "tunelake.duckdb"), pipelines_dir=str(root / "pipelines")
    )
    ingest_sandbox_days(settings, demo_days(days, LAST_DAY), seed=SEED)
    dbt_build(Path(settings.duckdb_path), root)
    return Path(settings.duckdb_path)


def mart_rows(duckdb_path: Path) -> dict[str, int]:
    from ingestion.transform import MARTS

    with duckdb.connect(str(duckdb_path), read_only=True) as con:
        return {mart: con.sql(f"select count(*) from marts.{mart}").fetchone()[0] for mart in MARTS}  # noqa: S608


# -- the server and the browser --------------------------------------------------------------------


def browser():
    """Headless Debian Chromium, as the page tests drive it (tests/browser.py)."""
    try:
        from tests.browser import CHROMEDRIVER, CHROMIUM, chromium_driver
    except ImportError as missing:
        raise RuntimeError(
            f"the dashboard benchmark drives Chromium with selenium ({missing}): make install-dev"
        ) from None
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        raise RuntimeError("the dashboard benchmark needs Debian's chromium and chromium-driver: make system-deps")
    return chromium_driver(1600, 1000)


def load(driver, url: str, page: Page) -> float:
    """Seconds from navigating to `url` until `page` has drawn all its charts."""
    started = time.perf_counter()
    driver.get(url)
    while True:
        state = driver.execute_script(RENDERED, page.title)
        elapsed = time.perf_counter() - started
        if state["failed"]:
            raise RuntimeError(f"{page.title}: {state['failed'][:500]}")
        if state["heading"] and not state["running"] and state["drawn"] >= page.charts:
            return elapsed
        if elapsed > WAIT_SECONDS:
            raise RuntimeError(f"{page.title}: {state['drawn']} of {page.charts} charts after {WAIT_SECONDS:.0f} s")
        time.sleep(0.025)


def measure_page(duckdb_path: Path, work: Path, page: Page, script: Path = APP, reloads: int = WARM_RELOADS) -> Timing:
    """One page on a new server and a new browser profile: cold, `reloads` warm loads, then restarted.

    The restart is on the same port, so the browser's cache still holds Streamlit's scripts: the
    server starts from nothing again (imports, empty query cache), the browser does not.
    """
    log, port = work / f"streamlit-{page.title.replace(' ', '-')}.log", free_port()
    address = f"http://127.0.0.1:{port}/{page.path}"
    driver = browser()
    try:
        spawned = time.perf_counter()
        process, _ = start_dashboard(duckdb_path, log, script, port)
        started = time.perf_counter() - spawned
        try:
            cold = load(driver, address, page)
            warm = [load(driver, address, page) for _ in range(reloads)]
        finally:
            stop(process)
        process, _ = start_dashboard(duckdb_path, log, script, port)
        try:
            restarted = load(driver, address, page)
        finally:
            stop(process)
    finally:
        driver.quit()
    return Timing(page, cold, warm, restarted, started)


def measure_unwarmed(duckdb_path: Path, work: Path, page: Page) -> tuple[float, float]:
    """Spawn to first answer and the cold load of `page`, the pages served without the warm-up (new browser profile)."""
    log, port = work / f"streamlit-unwarmed-{page.title.replace(' ', '-')}.log", free_port()
    driver = browser()
    try:
        spawned = time.perf_counter()
        process, _ = start_dashboard(duckdb_path, log, PAGES_SCRIPT, port)
        started = time.perf_counter() - spawned
        try:
            return started, load(driver, f"http://127.0.0.1:{port}/{page.path}", page)
        finally:
            stop(process)
    finally:
        driver.quit()


# -- the report ------------------------------------------------------------------------------------


def report(timings: list[Timing], notes: list[str]) -> str:
    lines = [
        "## Dashboard",
        "",
        "| Page | Charts | Server start: spawn to first answer | Cold: first load after start "
        "| Spawn to drawn | Without the start-up warm-up (before): first answer, cold, spawn to drawn "
        "| Warm: median of 3 reloads "
        "| Server restarted, scripts cached | Goal | Ratio cold / warm / restarted "
        f"| Within {GOAL_SECONDS:.0f} s (cold / warm / restarted) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for t in timings:
        unwarmed = "-" if t.unwarmed is None else " / ".join(f"{f:.2f} s" for f in (*t.unwarmed, sum(t.unwarmed)))
        measured = (
            f"| {t.page.charts} | {t.started:.2f} s | {t.cold:.2f} s | {t.started + t.cold:.2f} s | {unwarmed} "
            f"| {t.warm_median:.2f} s (of {', '.join(f'{w:.2f}' for w in t.warm)}) | {t.restarted:.2f} s"
        )
        if t.page is FLOOR:
            lines.append(f"| *{t.page.title}* {measured} | - | - | - |")
            continue
        figures = (t.cold, t.warm_median, t.restarted)
        lines.append(
            f"| {t.page.title} {measured} | <= {GOAL_SECONDS:.0f} s "
            f"| {' / '.join(f'{f / GOAL_SECONDS:.2f}x' for f in figures)} of the limit "
            f"| {' / '.join(_yes(f <= GOAL_SECONDS) for f in figures)} |"
        )
    return "\n".join([*lines, "", *notes])


def _yes(ok: bool) -> str:
    return "yes" if ok else "NO"


def run(quick: bool = False) -> str:
    """The `## Dashboard` section: each page's cold and warm time to its last chart, against 2 s."""
    days = QUICK_DAYS if quick else DAYS
    with tempfile.TemporaryDirectory(prefix="tunelake-bench-dashboard-") as folder:
        work = Path(folder)
        started = time.perf_counter()
        duckdb_path = build_marts(work, days)
        built = time.perf_counter() - started
        rows = mart_rows(duckdb_path)
        floor = work / "floor.py"
        floor.write_text(FLOOR_SCRIPT)
        load_before = os.getloadavg()
        timings = []
        for page in PAGES:
            timings.append(measure_page(duckdb_path, work, page))
            # Right after, so the load on the machine is as alike as it can be.
            timings[-1].unwarmed = measure_unwarmed(duckdb_path, work, page)
        timings.append(measure_page(duckdb_path, work, FLOOR, script=floor))
        load_after = os.getloadavg()
    notes = [
        f"- Demo marts: {days} sandbox days (seed {SEED}), built in {built:.0f} s; "
        + ", ".join(f"{mart} {count:,}" for mart, count in rows.items() if count),
        f"- Per page: a new server and a new Chromium profile (cold), {WARM_RELOADS} reloads (warm), then the "
        "server restarted on the same port and the page loaded once more, Streamlit's scripts now in the "
        "browser's cache (restarted). Chromium (headless, 1600x1000) and Streamlit share the machine.",
        "- Server start: from spawning `streamlit run dashboard/app.py` to its first answer on /_stcore/health, "
        "which comes once the warm-up is over (`streamlit run` prints the address then); the cold load is "
        "navigated at that moment. Before: the same figures on a server of `dashboard/pages.py` alone (no "
        "warm-up), new browser profile, measured right after the page's other figures.",
        f"- *{FLOOR.title}*: the same measure on a page with a title and {FLOOR.charts} three-bar charts, "
        "the start-up cost every Streamlit app pays (cold: Python imports, the browser fetching and "
        "compiling Streamlit's scripts; warm: a new session, scripts from the browser's cache).",
        f"- Load average (1 min) before: {load_before[0]:.2f}, after: {load_after[0]:.2f}",
    ]
    if quick:
        notes.append(f"- --quick: {QUICK_DAYS} days of data instead of {DAYS}.")
    return report(timings, notes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_DAYS} days of demo data instead of {DAYS}.")
    arguments = parser.parse_args()
    print(run(quick=arguments.quick))


if __name__ == "__main__":
    main()
