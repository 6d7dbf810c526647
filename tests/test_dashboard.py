"""The Streamlit dashboard over demo marts: every page in headless Chromium, its filters, its failure modes.

The marts come from three sandbox days (the loader's own path, then `dbt build` in a subprocess on
a copy of the project: dbt run in this process would keep the DuckDB file locked against the
dashboard's read-only connections). The dashboard runs as `streamlit run`, as `make dashboard`
runs it, and is driven through Chromium.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import sqlfluff
import trino_sql_validator
import yaml

from dashboard.queries import SQL, render
from dashboard.warehouse import (
    WarehouseUnavailableError,
    configured_target,
    data_version,
    fetch,
    normalized,
    one_connection,
)
from ingestion.config import Settings
from ingestion.history.importer import import_history
from ingestion.transform import DBT_PROJECT_DIR
from tests.browser import artifact, chromium_driver
from tests.dashboard_server import WAIT_SECONDS, dbt_build, start_dashboard, stop
from tests.support import ingest_days

DAYS = [date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 3)]


@dataclass(frozen=True)
class Page:
    slug: str
    path: str
    title: str
    charts: int


PAGES = [
    Page("catalog", "", "Catalog overview", 4),
    Page("trends", "trends", "Popularity trends", 5),
    Page("playlists", "playlists", "Playlist reach", 4),
    Page("listening", "listening", "My listening", 5),
    Page("history", "history", "Listening history", 6),
]

# Per chart, how much vega has drawn: its data mark items (SVG), or its painted pixels (canvas).
DRAWN_CHARTS = """
const charts = [...document.querySelectorAll('[data-testid="stVegaLiteChart"]')];
return charts.map(chart => {
    const svg = chart.querySelector('svg.marks');
    if (svg) { return svg.querySelectorAll('.role-mark > *').length; }
    const canvas = chart.querySelector('canvas.marks');
    if (!canvas || canvas.width === 0) { return 0; }
    const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let painted = 0;
    for (let i = 3; i < pixels.length; i += 4) { if (pixels[i] > 0) { painted += 1; } }
    return painted;
});
"""
ERRORS = '[data-testid="stException"], .stException, [data-testid="stAlertContentError"]'
RUNNING = '[data-testid="stStatusWidget"]'
# What vega drew in the chart under the heading arguments[0] (SVG renderer): the chart's box on the
# screen, its axes' labels, its text marks and its legend, each with where it lies. Two axis labels
# overlap when their boxes intersect in the first one's own (rotated) frame: vega's own overlap
# check uses upright boxes, which rotated labels fill mostly with empty corners.
DRAWN_CHART = """
const heading = [...document.querySelectorAll('h1, h2, h3')].find(h => h.textContent.trim() === arguments[0]);
if (!heading) { return null; }
const chart = [...document.querySelectorAll('[data-testid="stVegaLiteChart"]')]
    .find(c => heading.compareDocumentPosition(c) & Node.DOCUMENT_POSITION_FOLLOWING);
const box = element => { const r = element.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
const overlapping = labels => {
    const pairs = [];
    labels.forEach((first, i) => labels.slice(i + 1).forEach(second => {
        const a = first.getBBox(), b = second.getBBox();
        const offset = first.getCTM().inverse().multiply(second.getCTM());
        const [left, top] = [b.x + offset.e, b.y + offset.f];
        if (left < a.x + a.width && a.x < left + b.width && top < a.y + a.height && a.y < top + b.height) {
            pairs.push([first.textContent, second.textContent]);
        }
    }));
    return pairs;
};
const drawn = text => text.getAttribute('opacity') !== '0';
return {
    box: box(chart),
    axes: [...chart.querySelectorAll('.role-axis')].map(axis => {
        const labels = [...axis.querySelectorAll('.role-axis-label text')];
        return {
            title: axis.getAttribute('aria-label'),
            labels: labels.map(t => ({text: t.textContent, drawn: drawn(t), box: box(t)})),
            overlapping: overlapping(labels.filter(drawn)),
        };
    }),
    texts: [...chart.querySelectorAll('.mark-text.role-mark text')].map(t => ({
        text: t.textContent, at: t.getAttribute('transform'), about: t.getAttribute('aria-label'),
    })),
    cells: [...chart.querySelectorAll('.mark-rect.role-mark path')].map(box),
    legends: [...chart.querySelectorAll('.role-legend')].map(legend => ({
        box: box(legend),
        labels: [...legend.querySelectorAll('.role-legend-label text')].map(t => ({text: t.textContent, box: box(t)})),
    })),
};
"""
# A laptop's window: the playlist page's charts must keep every name readable at this width.
LAPTOP_WIDTH = 1400


# -- fixtures --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    """Marts built from three development-tier sandbox days, with the user's listening and export, as the demo's."""
    root = tmp_path_factory.mktemp("dashboard")
    settings = Settings(
        raw_zone_url=str(root / "raw"), duckdb_path=str(root / "tunelake.duckdb"), pipelines_dir=str(root / "pipelines")
    )
    ingest_days(settings, DAYS, export_to=root / "my_spotify_data.zip")
    assert import_history(settings, [root / "my_spotify_data.zip"]).complete
    dbt_build(Path(settings.duckdb_path), root)
    return Path(settings.duckdb_path)


@dataclass
class Server:
    url: str
    log: Path

    def output(self) -> str:
        return self.log.read_text()


def serve(duckdb_path: Path, log: Path) -> tuple[subprocess.Popen, Server]:
    process, url = start_dashboard(duckdb_path, log)
    return process, Server(url, log)


@pytest.fixture(scope="module")
def dashboard(warehouse, tmp_path_factory) -> Iterator[Server]:
    process, server = serve(warehouse, tmp_path_factory.mktemp("streamlit") / "streamlit.log")
    try:
        yield server
    finally:
        stop(process)


@pytest.fixture(scope="module")
def browser():
    # Tall enough that a screenshot holds the whole page.
    driver = chromium_driver(1600, 3200)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def laptop():
    driver = chromium_driver(LAPTOP_WIDTH, 3200)
    try:
        yield driver
    finally:
        driver.quit()


# -- browser helpers -------------------------------------------------------------------------------


def open_page(driver, url: str, title: str, charts: int) -> list[int]:
    """Load `url`, wait until the page is titled `title` and `charts` charts are drawn; their marks."""
    driver.get(url)
    return settle(driver, title, charts)


def settle(driver, title: str, charts: int) -> list[int]:
    """Wait until no script runs, the title shows and at least `charts` charts hold drawn marks.

    Returns the number of marks drawn in each chart; an error on the page ends the wait at once.
    """
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    def ready(d) -> tuple[list[int], list[str]] | None:
        if errors := error_texts(d):
            return [], errors
        if d.find_elements(By.CSS_SELECTOR, RUNNING):
            return None
        drawn = d.execute_script(DRAWN_CHARTS)
        shown = title in [h.text for h in d.find_elements(By.TAG_NAME, "h1")]
        return (drawn, []) if shown and sum(1 for marks in drawn if marks > 0) >= charts else None

    drawn, errors = WebDriverWait(driver, WAIT_SECONDS, poll_frequency=0.1).until(ready)
    assert errors == []
    return drawn


def error_texts(driver) -> list[str]:
    from selenium.webdriver.common.by import By

    return [element.text for element in driver.find_elements(By.CSS_SELECTOR, ERRORS)]


def metric(driver, label: str, index: int = 0) -> str:
    """The value of the page's `index`-th metric labelled `label`."""
    from selenium.webdriver.common.by import By

    values = [
        element.find_element(By.CSS_SELECTOR, '[data-testid="stMetricValue"]').text.strip()
        for element in driver.find_elements(By.CSS_SELECTOR, '[data-testid="stMetric"]')
        # The label's first line is its icon, a Material Symbols ligature such as `music_note`.
        if element.find_element(By.CSS_SELECTOR, '[data-testid="stMetricLabel"]').text.splitlines()[-1] == label
    ]
    if len(values) <= index:
        raise AssertionError(f"no metric {label!r} (number {index + 1})")
    return values[index]


def chart_labels(driver) -> str:
    """Every text vega drew (axis labels, legends), to see which names a chart shows."""
    return driver.execute_script(
        "return [...document.querySelectorAll('[data-testid=\"stVegaLiteChart\"] svg text')]"
        ".map(t => t.textContent).join('\\n');"
    )


def drawn_chart(driver, heading: str) -> dict:
    """What vega drew in the chart under `heading` (see DRAWN_CHART)."""
    chart = driver.execute_script(DRAWN_CHART, heading)
    assert chart is not None, f"no chart under {heading!r}"
    return chart


def inside(box: list[float], outer: list[float]) -> bool:
    """Whether a box (left, top, right, bottom) lies within `outer`, to a pixel."""
    return outer[0] - 1 <= box[0] and outer[1] - 1 <= box[1] and box[2] <= outer[2] + 1 and box[3] <= outer[3] + 1


def choose_artist(driver, name: str) -> None:
    """Pick one artist in the sidebar's multiselect, as a person would: type, then click the match."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    box = driver.find_element(By.CSS_SELECTOR, '[data-testid="stSidebar"] [data-testid="stMultiSelect"] input')
    box.click()
    box.send_keys(name)

    def option(d):
        matches = [o for o in d.find_elements(By.CSS_SELECTOR, '[role="option"]') if o.text.strip() == name]
        return matches[0] if matches else False

    WebDriverWait(driver, WAIT_SECONDS).until(option).click()


# -- the pages -------------------------------------------------------------------------------------


@pytest.mark.e2e
@pytest.mark.browser
@pytest.mark.parametrize("page", PAGES, ids=[page.slug for page in PAGES])
def test_every_page_draws_its_charts_without_an_error(dashboard, browser, page):
    drawn = open_page(browser, f"{dashboard.url}/{page.path}", page.title, page.charts)
    assert error_texts(browser) == []
    assert len(drawn) >= page.charts
    assert all(marks > 0 for marks in drawn), f"charts without marks: {drawn}"
    screenshot = artifact(f"dashboard-{page.slug}.png")
    browser.save_screenshot(str(screenshot))
    assert screenshot.stat().st_size > 50_000
    assert "Traceback" not in dashboard.output()


@pytest.mark.e2e
@pytest.mark.browser
def test_choosing_an_artist_narrows_every_page_and_follows_to_the_next(dashboard, browser, warehouse):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    with duckdb.connect(str(warehouse), read_only=True) as con:
        artist_id, name = con.sql(
            """
            select plays.primary_artist_id, artists.artist_name
            from marts.fct_plays as plays
            inner join marts.dim_artists as artists on plays.primary_artist_id = artists.artist_id
            group by plays.primary_artist_id, artists.artist_name
            order by count(*) desc, artists.artist_name
            limit 1
            """
        ).fetchone()
        tracks, all_tracks = con.sql(
            # The catalog leaves out ghost tracks (listed, no longer served).
            f"select count(distinct track_id), (select count(*) from marts.dim_tracks where not is_ghost) "
            f"from marts.dim_track_artists where artist_id = '{artist_id}'"
        ).fetchone()
        plays, all_plays = con.sql(
            f"select count(*) filter (where track_id in (select track_id from marts.dim_track_artists "
            f"where artist_id = '{artist_id}')), count(*) from marts.fct_plays"
        ).fetchone()
    assert 0 < tracks < all_tracks
    assert 0 < plays < all_plays

    open_page(browser, dashboard.url, "Catalog overview", 4)
    assert metric(browser, "Tracks") == f"{all_tracks:,}"
    labels_before = chart_labels(browser)
    choose_artist(browser, name)
    WebDriverWait(browser, WAIT_SECONDS).until(lambda d: metric(d, "Tracks") == f"{tracks:,}")
    settle(browser, "Catalog overview", 4)
    assert metric(browser, "Artists") == "1"
    labels = chart_labels(browser)
    assert name in labels
    assert len(labels) < len(labels_before)
    # The filter lives in the URL, so the narrowed view can be bookmarked or shared.
    assert "artist=" in browser.current_url

    browser.find_element(By.CSS_SELECTOR, '[data-testid="stSidebarNav"] a[href$="/listening"]').click()
    settle(browser, "My listening", 5)
    WebDriverWait(browser, WAIT_SECONDS).until(lambda d: metric(d, "Plays") == f"{plays:,}")
    assert error_texts(browser) == []
    selected = browser.find_elements(By.CSS_SELECTOR, '[data-testid="stSidebar"] [data-testid="stMultiSelect"]')
    assert name in selected[0].text


@pytest.mark.e2e
@pytest.mark.browser
def test_the_listening_history_spans_the_years_and_recaps_the_one_chosen(dashboard, browser, warehouse):
    from selenium.webdriver.common.by import By

    with duckdb.connect(str(warehouse), read_only=True) as con:
        listens, first = con.sql("select count(*), min(ended_date) from marts.fct_listens").fetchone()
        years = con.sql("select listened_year, play_count from marts.fct_listening_yearly order by 1").fetchall()
    assert len(years) >= 3

    open_page(browser, f"{dashboard.url}/history", "Listening history", 6)
    assert error_texts(browser) == []
    assert metric(browser, "Plays") == f"{listens:,}"
    captions = [
        caption.text for caption in browser.find_elements(By.CSS_SELECTOR, '[data-testid="stCaptionContainer"]')
    ]
    assert any(f"{first:%b %Y} to" in caption for caption in captions), captions
    # The year in review opens on the latest year; the table lists every year.
    assert metric(browser, "Plays", index=1) == f"{years[-1][1]:,}"
    table = browser.find_elements(By.CSS_SELECTOR, '[data-testid="stDataFrame"]')
    assert table
    browser.save_screenshot(str(artifact("dashboard-history.png")))


# Each playlist's rows at its latest snapshot, as the playlist page's charts show them.
LATEST_ENTRIES = """
    with latest as (
        select entries.*
        from marts.fct_playlist_tracks as entries
        where entries.snapshot_date = (
            select max(later.snapshot_date) from marts.fct_playlist_tracks as later
            where later.playlist_id = entries.playlist_id
        )
    )
"""


def playlist_columns(warehouse: Path) -> set[str]:
    """The heading of each playlist's column in "Who sits where": its name (its id if it has none) and length."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {
            f"{name} · {size} tracks"
            for name, size in con.sql(
                LATEST_ENTRIES
                + """
                select coalesce(nullif(playlists.playlist_name, ''), latest.playlist_id), count(*)
                from latest
                left join marts.dim_playlists as playlists on latest.playlist_id = playlists.playlist_id
                group by latest.playlist_id, playlists.playlist_name
                """
            ).fetchall()
        }


def assert_every_column_named(heatmap: dict, names: set[str]) -> None:
    """Each column of "Who sits where" has its name above it: drawn, whole, inside the chart, clear of the others."""
    (columns,) = [axis for axis in heatmap["axes"] if axis["title"].startswith("X-axis")]
    labels = columns["labels"]
    assert labels
    assert len(labels) == len({round(left) for left, *_ in heatmap["cells"]})
    assert [label["text"] for label in labels if not label["drawn"]] == []
    # Cut short, a name would end in an ellipsis and be none of `names`.
    assert {label["text"] for label in labels} <= names
    assert [label["text"] for label in labels if not inside(label["box"], heatmap["box"])] == []
    assert columns["overlapping"] == []


def moves_legend(driver, url: str, playlists: set[str]) -> dict:
    """The "Biggest position moves" chart of the playlist page at `url`, each line named "… in <one of playlists>"."""
    open_page(driver, f"{url}/playlists", "Playlist reach", 4)
    moves = drawn_chart(driver, "Biggest position moves")
    (legend,) = moves["legends"]
    lines = [label["text"] for label in legend["labels"]]
    assert lines
    assert [line for line in lines if not any(line.endswith(f" in {name}") for name in playlists)] == []
    return moves


@pytest.mark.e2e
@pytest.mark.browser
def test_who_sits_where_writes_a_track_listed_twice_once_with_both_positions(dashboard, laptop, warehouse):
    with duckdb.connect(str(warehouse), read_only=True) as con:
        twice = {
            positions
            for (positions,) in con.sql(
                LATEST_ENTRIES
                + """
                select string_agg(cast(playlist_position as varchar), ', ' order by playlist_position)
                from latest
                group by playlist_id, track_id
                having count(*) > 1
                """
            ).fetchall()
        }
    # The sandbox lists a few tracks twice in a playlist, as Spotify allows.
    assert twice

    open_page(laptop, f"{dashboard.url}/playlists", "Playlist reach", 4)
    heatmap = drawn_chart(laptop, "Who sits where")
    laptop.save_screenshot(str(artifact("dashboard-playlists-laptop.png")))
    places = Counter(text["at"] for text in heatmap["texts"])
    assert [text for text in heatmap["texts"] if places[text["at"]] > 1] == []
    # One figure per cell; a cell of a track listed twice names both positions.
    assert len(heatmap["texts"]) == len(heatmap["cells"])
    listed = {text["text"] for text in heatmap["texts"] if "," in text["text"]}
    assert listed
    assert listed <= twice


@pytest.mark.e2e
@pytest.mark.browser
def test_who_sits_where_names_every_playlist_column_at_a_laptops_width(dashboard, laptop, warehouse):
    open_page(laptop, f"{dashboard.url}/playlists", "Playlist reach", 4)
    heatmap = drawn_chart(laptop, "Who sits where")
    assert_every_column_named(heatmap, playlist_columns(warehouse))
    # Nor does room for them cost a track its name.
    (rows,) = [axis for axis in heatmap["axes"] if axis["title"].startswith("Y-axis")]
    assert [label["text"] for label in rows["labels"] if not label["drawn"]] == []
    assert rows["overlapping"] == []


@pytest.mark.e2e
@pytest.mark.browser
def test_biggest_position_moves_names_the_playlists_and_shows_its_whole_legend(dashboard, laptop, warehouse):
    with duckdb.connect(str(warehouse), read_only=True) as con:
        names = dict(con.sql("select playlist_id, playlist_name from marts.dim_playlists").fetchall())
    assert all(names.values())

    moves = moves_legend(laptop, dashboard.url, set(names.values()))
    laptop.save_screenshot(str(artifact("dashboard-playlists-moves.png")))
    (legend,) = moves["legends"]
    assert inside(legend["box"], moves["box"])
    assert [label["text"] for label in legend["labels"] if not inside(label["box"], moves["box"])] == []


@pytest.mark.e2e
@pytest.mark.browser
def test_a_playlist_without_a_name_is_shown_by_its_whole_id(warehouse, laptop, tmp_path):
    unnamed = tmp_path / "tunelake.duckdb"
    shutil.copyfile(warehouse, unnamed)
    with duckdb.connect(str(unnamed)) as con:
        con.execute("update marts.dim_playlists set playlist_name = null")
        ids = {playlist_id for (playlist_id,) in con.sql("select playlist_id from marts.dim_playlists").fetchall()}
    process, server = serve(unnamed, tmp_path / "streamlit.log")
    try:
        moves_legend(laptop, server.url, ids)
        laptop.save_screenshot(str(artifact("dashboard-playlists-unnamed.png")))
        # Whole ids are longer than the demo's names: they too fit above their columns.
        assert_every_column_named(drawn_chart(laptop, "Who sits where"), playlist_columns(unnamed))
        assert "Traceback" not in server.output()
    finally:
        stop(process)


@pytest.mark.e2e
@pytest.mark.browser
def test_the_pages_load_nothing_from_outside_the_local_server(dashboard, browser):
    outside = set()
    for page in PAGES:
        open_page(browser, f"{dashboard.url}/{page.path}", page.title, page.charts)
        # Usage statistics would go to data.streamlit.io, icons come from fonts.gstatic.com.
        outside |= set(
            browser.execute_script(
                "return performance.getEntriesByType('resource').map(e => e.name)"
                ".filter(n => !n.startsWith(arguments[0]) && !n.startsWith('data:') && !n.startsWith('blob:'));",
                dashboard.url,
            )
        )
    assert outside == set()


@pytest.mark.e2e
@pytest.mark.browser
def test_a_missing_warehouse_names_the_file_and_says_to_run_make_demo(browser, tmp_path):
    missing = tmp_path / "nowhere" / "tunelake.duckdb"
    process, server = serve(missing, tmp_path / "streamlit.log")
    try:
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions
        from selenium.webdriver.support.ui import WebDriverWait

        browser.get(server.url)
        alert = WebDriverWait(browser, WAIT_SECONDS).until(
            expected_conditions.visibility_of_element_located((By.CSS_SELECTOR, '[data-testid="stAlertContentError"]'))
        )
        assert str(missing) in alert.text
        assert "make demo" in alert.text
        assert browser.find_elements(By.CSS_SELECTOR, '[data-testid="stException"], .stException') == []
        browser.save_screenshot(str(artifact("dashboard-missing.png")))
        assert "Traceback" not in server.output()
    finally:
        stop(process)


@pytest.mark.e2e
@pytest.mark.browser
def test_marts_not_built_yet_or_a_writer_holding_the_file_give_a_message_not_a_traceback(browser, tmp_path):
    empty = tmp_path / "tunelake.duckdb"
    duckdb.connect(str(empty)).close()
    process, server = serve(empty, tmp_path / "streamlit.log")
    try:
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions
        from selenium.webdriver.support.ui import WebDriverWait

        alert = (By.CSS_SELECTOR, '[data-testid="stAlertContentError"]')
        browser.get(server.url)
        message = WebDriverWait(browser, WAIT_SECONDS).until(expected_conditions.visibility_of_element_located(alert))
        assert "Could not read the marts" in message.text
        assert "make demo" in message.text
        # `tunelake ingest` or `dbt build` writing: DuckDB lets no other process open the file.
        with duckdb.connect(str(empty)):
            browser.get(f"{server.url}/listening")
            message = WebDriverWait(browser, WAIT_SECONDS).until(
                expected_conditions.visibility_of_element_located(alert)
            )
            assert "lock" in message.text
        assert browser.find_elements(By.CSS_SELECTOR, '[data-testid="stException"], .stException') == []
        assert "Traceback" not in server.output()
    finally:
        stop(process)


@pytest.mark.e2e
@pytest.mark.browser
def test_without_plays_my_listening_says_how_to_load_them_and_the_other_pages_still_draw(warehouse, browser, tmp_path):
    quiet = tmp_path / "tunelake.duckdb"
    shutil.copyfile(warehouse, quiet)
    with duckdb.connect(str(quiet)) as con:
        con.execute("delete from marts.fct_plays")
        con.execute("delete from marts.fct_listening_daily")
    process, server = serve(quiet, tmp_path / "streamlit.log")
    try:
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions
        from selenium.webdriver.support.ui import WebDriverWait

        browser.get(f"{server.url}/listening")
        info = WebDriverWait(browser, WAIT_SECONDS).until(
            expected_conditions.visibility_of_element_located((By.CSS_SELECTOR, '[data-testid="stAlertContentInfo"]'))
        )
        assert "No plays" in info.text
        assert "tunelake auth" in info.text
        assert error_texts(browser) == []
        browser.save_screenshot(str(artifact("dashboard-listening-empty.png")))
        open_page(browser, f"{server.url}/trends", "Popularity trends", 5)
        assert error_texts(browser) == []
        assert "Traceback" not in server.output()
    finally:
        stop(process)


@pytest.mark.e2e
def test_the_server_answers_once_the_first_page_is_warmed(warehouse, tmp_path):
    process, server = serve(warehouse, tmp_path / "streamlit.log")
    try:
        # At its first answer: the first visitor finds the imports done and the default page's answers
        # cached, and the browser compiling Streamlit's scripts does not share the cores with that work.
        assert re.search(r"dashboard warm-up in [\d.]+ s: the default page's answers cached", server.output())
    finally:
        stop(process)


@pytest.mark.e2e
@pytest.mark.browser
def test_a_page_shows_a_new_build_at_once_without_a_restart(warehouse, browser, tmp_path):
    rebuilt = tmp_path / "tunelake.duckdb"
    shutil.copyfile(warehouse, rebuilt)
    process, server = serve(rebuilt, tmp_path / "streamlit.log")
    try:
        open_page(browser, server.url, "Catalog overview", 4)
        before = int(metric(browser, "Tracks").replace(",", ""))
        # The server warmed the pages' answers as it started: they are the ones that must not go stale.
        assert re.search(r"dashboard warm-up in [\d.]+ s: the default page's answers cached", server.output())
        # What a new `dbt build` does to the file: the marts change and the file with them.
        with duckdb.connect(str(rebuilt)) as con:
            con.execute(
                "delete from marts.dim_tracks where track_id in "
                "(select track_id from marts.dim_tracks where not is_ghost order by track_id limit 10)"
            )
        open_page(browser, server.url, "Catalog overview", 4)
        assert int(metric(browser, "Tracks").replace(",", "")) == before - 10
        assert "Traceback" not in server.output()
    finally:
        stop(process)


# -- the SQL and the reader ------------------------------------------------------------------------


def statements() -> dict[str, str]:
    return {name: render(name, DAYS[0], DAYS[-1], ids=["4uLU6hMCjMI75M1A2tKUQC"]) for name in SQL}


def test_every_query_is_valid_trino_for_athena_and_parses_as_snowflake():
    problems = {}
    for name, sql in statements().items():
        result = trino_sql_validator.validate(sql, dialect="trino")
        if not result.valid or result.warnings:
            problems[name] = str(result.error) if not result.valid else "; ".join(map(str, result.warnings))
        try:
            sqlfluff.parse(sql, dialect="snowflake")
        except sqlfluff.api.simple.APIParsingError as error:
            problems[f"{name} (snowflake)"] = str(error)
    assert problems == {}


def test_a_duckdb_only_query_fails_the_portability_check():
    duckdb_only = SQL["tracks"].replace("from marts.dim_tracks", "from marts.dim_tracks group by all")
    assert not trino_sql_validator.validate(duckdb_only, dialect="trino").valid


@pytest.mark.e2e
def test_the_demo_marts_hold_years_of_listening(warehouse):
    with duckdb.connect(str(warehouse), read_only=True) as con:
        years, sources = con.sql(
            "select count(distinct extract(year from ended_date)), count(distinct source) from marts.fct_listens"
        ).fetchone()
    # Three years of the export before the last day, and the API's plays of that day.
    assert years >= 3
    assert sources == 2


@pytest.mark.e2e
def test_the_queries_run_on_the_demo_marts(warehouse):
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for name, sql in statements().items():
            assert con.execute(sql).description, name


def test_an_id_that_is_not_a_spotify_id_never_reaches_the_sql():
    with pytest.raises(ValueError, match="Spotify ids"):
        render("track_signal", DAYS[0], DAYS[-1], ids=["x' or '1'='1"])


def test_the_target_comes_from_the_environment_and_names_what_is_missing(tmp_path):
    target = configured_target({"TUNELAKE_DUCKDB_PATH": str(tmp_path / "w.duckdb")})
    assert (target.engine, target.setting("path")) == ("duckdb", str(tmp_path / "w.duckdb"))
    with pytest.raises(WarehouseUnavailableError, match="SNOWFLAKE_USER, SNOWFLAKE_PRIVATE_KEY_PATH"):
        configured_target({"TUNELAKE_TARGET": "snowflake", "SNOWFLAKE_ACCOUNT": "example"})
    snowflake = configured_target(
        {
            "TUNELAKE_TARGET": "snowflake",
            "SNOWFLAKE_ACCOUNT": "a",
            "SNOWFLAKE_USER": "u",
            "SNOWFLAKE_PRIVATE_KEY_PATH": "k",
        }
    )
    assert snowflake.setting("role") == "TUNELAKE_READER"
    with pytest.raises(WarehouseUnavailableError, match="ATHENA_S3_STAGING_DIR"):
        configured_target({"TUNELAKE_TARGET": "athena"})
    with pytest.raises(WarehouseUnavailableError, match="bigquery"):
        configured_target({"TUNELAKE_TARGET": "bigquery"})


@pytest.mark.e2e
def test_a_page_run_asks_over_one_connection_and_leaves_the_file_to_the_next_build(warehouse, tmp_path):
    copy = tmp_path / "tunelake.duckdb"
    shutil.copyfile(warehouse, copy)
    target = configured_target({"TUNELAKE_DUCKDB_PATH": str(copy)})

    def writer_refused() -> str:
        """What a writer in another process (`tunelake ingest`, `dbt build`) is told opening the file; '' if it may."""
        script = f"import duckdb; duckdb.connect({str(copy)!r}).close()"
        return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False).stderr

    with one_connection():
        tracks = fetch(target, SQL["tracks"])
        bounds = fetch(target, SQL["date_bounds"])
        assert "lock" in writer_refused()
    assert len(tracks) > 0
    assert not pd.isna(bounds["last_date"].iloc[0])
    assert writer_refused() == ""
    # Outside a page's run, each query opens and closes its own.
    fetch(target, SQL["playlist_count"])
    assert writer_refused() == ""


def test_a_duckdb_warehouse_has_a_new_version_once_written(tmp_path):
    path = tmp_path / "tunelake.duckdb"
    duckdb.connect(str(path)).close()
    target = configured_target({"TUNELAKE_DUCKDB_PATH": str(path)})
    first = data_version(target)
    assert first == data_version(target)
    with duckdb.connect(str(path)) as con:
        con.execute("create table t as select 1 as x")
    assert data_version(target) != first
    # Athena's (or Snowflake's) builds cannot be seen from here: their answers age out by time instead.
    assert data_version(configured_target({"TUNELAKE_TARGET": "athena", "ATHENA_S3_STAGING_DIR": "s3://b/"})) is None


def test_rows_get_the_same_types_whichever_driver_answered():
    frame = normalized(
        pd.DataFrame(
            {
                "observed_date": [date(2026, 11, 1), None],
                "played_at": ["2026-11-01T10:00:00+01:00", None],
                "change_7d": [None, None],
                "signal_score": [Decimal("12"), None],
                "track_name": ["Static", None],
            }
        )
    )
    assert str(frame["observed_date"].dtype) == "datetime64[ns]"
    assert str(frame["played_at"].dtype) == "datetime64[ns, UTC]"
    assert frame["played_at"].iloc[0].hour == 9
    assert frame["change_7d"].dtype == float
    assert frame["signal_score"].dtype == float
    assert frame["track_name"].dtype == object


def test_the_dashboard_exposure_names_exactly_the_marts_its_queries_read():
    exposures = yaml.safe_load((DBT_PROJECT_DIR / "models" / "marts" / "_marts__exposures.yml").read_text())
    (dashboard,) = [e for e in exposures["exposures"] if e["name"] == "tunelake_dashboard"]
    declared = {re.fullmatch(r"ref\('(\w+)'\)", ref)[1] for ref in dashboard["depends_on"]}
    read = {table for sql in SQL.values() for table in re.findall(r"\bmarts\.(\w+)", sql)}
    assert read == declared
