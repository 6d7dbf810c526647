"""The semantic layer (models/marts/_marts__semantic.yml): `dbt parse` validates it, and MetricFlow's
numbers on sandbox data equal the same figures computed from the marts with SQL.

dbt and `mf` run as subprocesses on a copy of the project: `mf` reads the project's
target/semantic_manifest.json (a fixed path) and opens the DuckDB file itself, which DuckDB
refuses while another process, such as this one after an in-process dbt run, holds it.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from ingestion.config import Settings
from ingestion.history.importer import import_history
from ingestion.transform import DBT_PROJECT_DIR, PROFILES_TEMPLATE
from sandbox import export as exports
from tests.support import ingest_days, streams_every

BIN = Path(sys.executable).parent
SEMANTIC_YAML = Path("models") / "marts" / "_marts__semantic.yml"
DAYS = [date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 3)]
# The window every query asks for: the plays reach back before the first day (recently played
# returns the last 50), and the cumulative metrics run on after the last, to the spine's end.
START, END = date(2026, 10, 25), date(2026, 11, 10)

SEMANTIC_MODELS = {
    "tracks",
    "artists",
    "albums",
    "track_popularity_daily",
    "artist_popularity_daily",
    "album_popularity_daily",
    "playlist_tracks",
    "playlists",
    "plays",
    "listens",
    "sessions",
}
METRICS = {
    "avg_track_signal_score": "simple",
    "max_track_signal_score": "simple",
    "avg_track_popularity": "simple",
    "track_observations": "simple",
    "track_observations_with_popularity": "simple",
    "popularity_coverage": "ratio",
    "avg_track_signal_score_change_1d": "derived",
    "avg_artist_signal_score": "simple",
    "max_artist_signal_score": "simple",
    "avg_album_signal_score": "simple",
    "max_album_signal_score": "simple",
    "tracks_observed": "simple",
    "tracks_in_playlists": "simple",
    "playlist_reach_share": "ratio",
    "track_playlist_placements": "simple",
    "artist_playlist_placements": "simple",
    "playlist_appearances": "simple",
    "tracked_playlists": "simple",
    "avg_playlist_length": "ratio",
    "plays": "simple",
    "minutes_listened": "simple",
    "distinct_tracks_played": "simple",
    "distinct_artists_played": "simple",
    "minutes_per_play": "ratio",
    "plays_7d": "cumulative",
    "new_tracks": "simple",
    "new_artists": "simple",
    "new_albums": "simple",
    "catalog_tracks": "cumulative",
    "catalog_artists": "cumulative",
    "catalog_albums": "cumulative",
    "catalog_tracks_per_album": "derived",
    "listens": "simple",
    "listening_minutes": "simple",
    "skips": "simple",
    "listens_with_skip_known": "simple",
    "skip_rate": "ratio",
    "listening_sessions": "simple",
    "session_minutes": "simple",
    "minutes_per_session": "ratio",
}
# Spotify's popularity: the development-tier sandbox withholds it, as the real API does.
NULL_IN_DEVELOPMENT_MODE = {"avg_track_popularity"}
SAVED_QUERIES = {
    "daily_artist_popularity",
    "daily_track_popularity",
    "daily_playlist_reach",
    "daily_listening",
    "catalog_growth",
    "listening_history",
}

# Each metric per UTC day, from the marts, for the days it has a value. `days` is every day of
# the window. The listening counts come from fct_listening_daily, a mart the semantic layer
# does not read, so a double count in fct_plays' joins would show.
DAYS_CTE = f"""
days as (
    select cast(range as date) as day
    from range(date '{START}', date '{END}' + interval 1 day, interval 1 day)
)
"""
TRACK_DAILY = "marts.fct_track_popularity_daily"
ARTIST_DAILY_FACT = "marts.fct_artist_popularity_daily"
ALBUM_DAILY_FACT = "marts.fct_album_popularity_daily"
NEW = "select first_seen_date, count(*) from marts.dim_{kind}s where first_seen_date is not null group by 1"
BY_DAY = {
    "avg_track_signal_score": f"select observed_date, avg(signal_score) from {TRACK_DAILY} group by 1",
    "max_track_signal_score": f"select observed_date, max(signal_score) from {TRACK_DAILY} group by 1",
    "avg_track_popularity": f"select observed_date, avg(popularity) from {TRACK_DAILY} group by 1",
    "track_observations": f"select observed_date, count(*) from {TRACK_DAILY} group by 1",
    "track_observations_with_popularity": f"select observed_date, count(popularity) from {TRACK_DAILY} group by 1",
    "popularity_coverage": f"select observed_date, count(popularity) / count(*) from {TRACK_DAILY} group by 1",
    "avg_track_signal_score_change_1d": f"""
        with daily as (select observed_date, avg(signal_score) as score from {TRACK_DAILY} group by 1)
        select today.observed_date, today.score - day_before.score
        from daily as today
        join daily as day_before on day_before.observed_date = today.observed_date - 1
    """,
    "avg_artist_signal_score": f"select observed_date, avg(signal_score) from {ARTIST_DAILY_FACT} group by 1",
    "max_artist_signal_score": f"select observed_date, max(signal_score) from {ARTIST_DAILY_FACT} group by 1",
    "avg_album_signal_score": f"select observed_date, avg(signal_score) from {ALBUM_DAILY_FACT} group by 1",
    "max_album_signal_score": f"select observed_date, max(signal_score) from {ALBUM_DAILY_FACT} group by 1",
    "tracks_observed": f"select observed_date, count(distinct track_id) from {TRACK_DAILY} group by 1",
    "tracks_in_playlists": f"""
        select observed_date, count(distinct track_id) filter (where playlist_count > 0)
        from {TRACK_DAILY} group by 1
    """,
    "playlist_reach_share": f"""
        select observed_date, count(distinct track_id) filter (where playlist_count > 0) / count(distinct track_id)
        from {TRACK_DAILY} group by 1
    """,
    "track_playlist_placements": f"select observed_date, sum(playlist_count) from {TRACK_DAILY} group by 1",
    "artist_playlist_placements": f"select observed_date, sum(playlist_count) from {ARTIST_DAILY_FACT} group by 1",
    "playlist_appearances": "select snapshot_date, count(*) from marts.fct_playlist_tracks group by 1",
    "tracked_playlists": "select snapshot_date, count(distinct playlist_id) from marts.fct_playlist_tracks group by 1",
    "avg_playlist_length": """
        select snapshot_date, count(*) / count(distinct playlist_id) from marts.fct_playlist_tracks group by 1
    """,
    "plays": "select played_date, play_count from marts.fct_listening_daily",
    "minutes_listened": "select played_date, sum(duration_ms) / 60000 from marts.fct_plays group by 1",
    "distinct_tracks_played": "select played_date, distinct_track_count from marts.fct_listening_daily",
    "distinct_artists_played": "select played_date, distinct_artist_count from marts.fct_listening_daily",
    "minutes_per_play": "select played_date, sum(duration_ms) / 60000 / count(*) from marts.fct_plays group by 1",
    "plays_7d": f"""
        with {DAYS_CTE}
        select days.day, sum(listening.play_count)
        from days
        join marts.fct_listening_daily as listening
            on listening.played_date between days.day - 6 and days.day
        group by 1
    """,
    "listens": "select ended_date, count(*) from marts.fct_listens group by 1",
    "listening_minutes": "select ended_date, sum(ms_played) / 60000 from marts.fct_listens group by 1",
    "skip_rate": """
        select ended_date, count(*) filter (where is_skipped) / nullif(count(is_skipped), 0)
        from marts.fct_listens group by 1
    """,
    "skips": "select ended_date, count(*) filter (where is_skipped) from marts.fct_listens group by 1",
    "listens_with_skip_known": "select ended_date, count(is_skipped) from marts.fct_listens group by 1",
    "listening_sessions": "select session_started_date, count(*) from marts.fct_listening_sessions group by 1",
    "session_minutes": """
        select session_started_date, sum(duration_minutes) from marts.fct_listening_sessions group by 1
    """,
    "minutes_per_session": """
        select session_started_date, sum(duration_minutes) / count(*) from marts.fct_listening_sessions group by 1
    """,
    "new_tracks": NEW.format(kind="track"),
    "new_artists": NEW.format(kind="artist"),
    "new_albums": NEW.format(kind="album"),
    **{
        f"catalog_{kind}s": f"""
            with {DAYS_CTE}
            select days.day, count(*)
            from days
            join marts.dim_{kind}s as catalog on catalog.first_seen_date <= days.day
            group by 1
        """
        for kind in ("track", "artist", "album")
    },
    "catalog_tracks_per_album": f"""
        with {DAYS_CTE},
        tracks as (
            select days.day, count(*) as total from days join marts.dim_tracks on first_seen_date <= days.day group by 1
        ),
        albums as (
            select days.day, count(*) as total from days join marts.dim_albums on first_seen_date <= days.day group by 1
        )
        select tracks.day, tracks.total / albums.total from tracks join albums on tracks.day = albums.day
    """,
}

# Sliced by the artist's name: through a fact's own `artist` entity, or two hops away through
# the track (`track__artist__...`). Artists sharing a name are one group, as in MetricFlow.
ARTIST_DAILY = """
    select daily.observed_date, artists.artist_name, {value}
    from marts.fct_artist_popularity_daily as daily
    left join marts.dim_artists as artists on daily.artist_id = artists.artist_id
    group by 1, 2
"""
PLAYS_BY_ARTIST = """
    select plays.played_date, artists.artist_name, {value}
    from marts.fct_plays as plays
    left join marts.dim_artists as artists on plays.primary_artist_id = artists.artist_id
    group by 1, 2
"""
BY_DAY_AND_ARTIST = {
    "avg_artist_signal_score": ARTIST_DAILY.format(value="avg(daily.signal_score)"),
    "max_artist_signal_score": ARTIST_DAILY.format(value="max(daily.signal_score)"),
    "artist_playlist_placements": ARTIST_DAILY.format(value="sum(daily.playlist_count)"),
    "plays": PLAYS_BY_ARTIST.format(value="count(*)"),
    "minutes_listened": PLAYS_BY_ARTIST.format(value="sum(plays.duration_ms) / 60000"),
    "new_albums": """
        select albums.first_seen_date, artists.artist_name, count(*)
        from marts.dim_albums as albums
        left join marts.dim_artists as artists on albums.primary_artist_id = artists.artist_id
        where albums.first_seen_date is not null
        group by 1, 2
    """,
}
TRACK_ARTIST = """
    select {day}, artists.artist_name, {value}
    from {fact} as fact
    left join marts.dim_tracks as tracks on fact.track_id = tracks.track_id
    left join marts.dim_artists as artists on tracks.primary_artist_id = artists.artist_id
    group by 1, 2
"""
BY_DAY_AND_TRACK_ARTIST = {
    "avg_track_signal_score": TRACK_ARTIST.format(
        day="fact.observed_date", value="avg(fact.signal_score)", fact=TRACK_DAILY
    ),
    "tracks_in_playlists": TRACK_ARTIST.format(
        day="fact.observed_date",
        value="count(distinct fact.track_id) filter (where fact.playlist_count > 0)",
        fact=TRACK_DAILY,
    ),
    "playlist_appearances": TRACK_ARTIST.format(
        day="fact.snapshot_date", value="count(*)", fact="marts.fct_playlist_tracks"
    ),
}
BY_DAY_AND_PLAYLIST = {
    "playlist_appearances": "select snapshot_date, playlist_id, count(*) from marts.fct_playlist_tracks group by 1, 2",
    "avg_playlist_length": """
        select snapshot_date, playlist_id, count(*) / count(distinct playlist_id)
        from marts.fct_playlist_tracks group by 1, 2
    """,
}
BY_DAY_AND_PLAYLIST_NAME = {
    "playlist_appearances": """
        select entries.snapshot_date, playlists.playlist_name, count(*)
        from marts.fct_playlist_tracks as entries
        inner join marts.dim_playlists as playlists on entries.playlist_id = playlists.playlist_id
        group by 1, 2
    """,
}


def project_copy(root: Path) -> Path:
    """The dbt project copied to `root` with its own profile, so target/ is this test's own."""
    project = root / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs", "profiles.yml"))
    shutil.copyfile(PROFILES_TEMPLATE, project / "profiles.yml")
    return project


def run(project: Path, warehouse: Path | None, *command: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """One dbt or mf command in the project copy, on `warehouse` (a DuckDB file)."""
    environment = {**os.environ, "DBT_PROFILES_DIR": str(project), "TUNELAKE_TARGET": "duckdb"}
    if warehouse:
        environment["TUNELAKE_DUCKDB_PATH"] = str(warehouse)
    return subprocess.run(
        [str(BIN / command[0]), *command[1:]],
        cwd=project,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def dbt(project: Path, warehouse: Path | None, *args: str) -> subprocess.CompletedProcess:
    return run(project, warehouse, "dbt", *args, "--project-dir", str(project), "--profiles-dir", str(project))


def semantic_manifest(project: Path) -> dict:
    return json.loads((project / "target" / "semantic_manifest.json").read_text())


def test_dbt_parse_validates_the_semantic_models_metrics_saved_queries_and_time_spine(tmp_path):
    project = project_copy(tmp_path)
    parsed = dbt(project, None, "parse")
    assert parsed.returncode == 0, parsed.stdout[-3000:]
    manifest = semantic_manifest(project)
    assert {model["name"] for model in manifest["semantic_models"]} == SEMANTIC_MODELS
    assert {metric["name"]: metric["type"] for metric in manifest["metrics"]} == METRICS
    assert all(metric["label"] and metric["description"] for metric in manifest["metrics"])
    assert {query["name"] for query in manifest["saved_queries"]} == SAVED_QUERIES
    (spine,) = manifest["project_configuration"]["time_spines"]
    assert spine["node_relation"]["alias"] == "time_spine_daily"
    assert spine["node_relation"]["schema_name"] == "marts"
    assert spine["primary_column"] == {"name": "date_day", "time_granularity": "day"}
    # Every fact reaches the dimensions: its foreign entities are primary in a dimension model.
    entities = {
        model["name"]: {entity["name"]: entity["type"] for entity in model["entities"]}
        for model in manifest["semantic_models"]
    }
    primary = {name for model in entities.values() for name, kind in model.items() if kind == "primary"}
    foreign = {name for model in entities.values() for name, kind in model.items() if kind == "foreign"}
    assert primary == {"track", "artist", "album", "playlist"}
    assert foreign <= primary


@pytest.mark.parametrize(
    ("original", "broken", "named"),
    [
        # a metric on a measure no semantic model has
        ("type_params: {measure: play_count}", "type_params: {measure: play_counts}", "play_counts"),
        # a saved query grouped by a dimension that does not exist
        ("Dimension('artist__artist_name')", "Dimension('artist__artist_label')", "artist__artist_label"),
    ],
    ids=["unknown_measure", "unknown_dimension"],
)
def test_a_broken_definition_fails_dbt_parse_with_an_error_naming_it(tmp_path, original, broken, named):
    project = project_copy(tmp_path)
    definitions = project / SEMANTIC_YAML
    text = definitions.read_text()
    assert original in text
    definitions.write_text(text.replace(original, broken))
    parsed = dbt(project, None, "parse")
    assert parsed.returncode != 0
    assert named in parsed.stdout


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, Path]:
    """Three development-tier sandbox days with the user's listening and an export over the window, built."""
    root = tmp_path_factory.mktemp("semantic")
    settings = Settings(
        raw_zone_url=str(root / "raw"), duckdb_path=str(root / "tunelake.duckdb"), pipelines_dir=str(root / "pipelines")
    )
    ingest_days(settings, DAYS)
    # Export streams every 3 hours through the window, so the whole-history metrics have minutes and skips.
    streams = streams_every(datetime(2026, 10, 26, tzinfo=UTC), timedelta(hours=3), 120)
    assert import_history(settings, [exports.write_zip(root / "export.zip", {"endsong_0.json": streams})]).complete
    project = project_copy(root)
    warehouse = Path(settings.duckdb_path)
    finished = dbt(project, warehouse, "build", "--quiet")
    assert finished.returncode == 0, finished.stdout[-3000:]
    return project, warehouse


def mf_query(built: tuple[Path, Path], *args: str) -> list[dict[str, str]]:
    """`mf query ... --csv`, bounded to the window, as rows of strings ('' for null)."""
    project, warehouse = built
    output = project / "target" / "mf-query.csv"
    output.unlink(missing_ok=True)
    finished = run(
        project,
        warehouse,
        "mf",
        "query",
        *args,
        "--start-time",
        START.isoformat(),
        "--end-time",
        END.isoformat(),
        "--csv",
        str(output),
        timeout=180,
    )
    assert finished.returncode == 0, finished.stdout[-3000:] + finished.stderr[-3000:]
    with output.open(newline="") as rows:
        return list(csv.DictReader(rows))


def number(value: str) -> float | None:
    return float(value) if value != "" else None


def metric_values(rows: list[dict[str, str]], metric: str, keys: tuple[str, ...] = ()) -> dict[tuple, float]:
    """One metric's non-null values by (day, *keys) from mf's rows."""
    values = {}
    for row in rows:
        if row[metric] != "":
            values[(row["metric_time__day"][:10], *(row[key] for key in keys))] = number(row[metric])
    return values


def sql_values(warehouse: Path, sql: str) -> dict[tuple, float]:
    """The same from SQL whose last column is the value, the ones before it the keys (null as '')."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.sql(sql).fetchall()
    return {
        (row[0].isoformat(), *("" if key is None else str(key) for key in row[1:-1])): float(row[-1])
        for row in rows
        if row[-1] is not None and START <= row[0] <= END
    }


def differences(metric: str, from_mf: dict[tuple, float], from_sql: dict[tuple, float]) -> list[str]:
    """Where the two disagree: keys only one side has, or values beyond rounding."""
    problems = [f"{metric} {key}: mf only, {from_mf[key]}" for key in sorted(from_mf.keys() - from_sql.keys())]
    problems += [f"{metric} {key}: SQL only, {from_sql[key]}" for key in sorted(from_sql.keys() - from_mf.keys())]
    problems += [
        f"{metric} {key}: mf {from_mf[key]}, SQL {from_sql[key]}"
        for key in sorted(from_mf.keys() & from_sql.keys())
        if from_mf[key] != pytest.approx(from_sql[key], rel=1e-9, abs=1e-9)
    ]
    return problems


def compare(built, expected: dict[str, str], group_by: tuple[str, ...] = ()) -> list[str]:
    """mf's answer for `expected`'s metrics grouped by day and `group_by`, against their SQL."""
    _, warehouse = built
    rows = mf_query(built, "--metrics", ",".join(expected), "--group-by", ",".join(("metric_time__day", *group_by)))
    problems = []
    for metric, sql in expected.items():
        from_mf, from_sql = metric_values(rows, metric, group_by), sql_values(warehouse, sql)
        assert from_sql or metric in NULL_IN_DEVELOPMENT_MODE, f"{metric}: the SQL finds nothing in the window"
        problems += differences(metric, from_mf, from_sql)
    return problems


@pytest.mark.e2e
def test_mf_validate_configs_passes_against_the_warehouse(built):
    project, warehouse = built
    finished = run(project, warehouse, "mf", "validate-configs", timeout=180)
    assert finished.returncode == 0, finished.stdout[-3000:]
    assert "ERRORS: 0" in finished.stdout


@pytest.mark.e2e
def test_every_metric_by_day_equals_sql_on_the_marts(built):
    assert set(BY_DAY) == set(METRICS)
    assert compare(built, BY_DAY) == []


@pytest.mark.e2e
def test_metrics_by_artist_name_equal_sql_joining_the_artists(built):
    assert compare(built, BY_DAY_AND_ARTIST, ("artist__artist_name",)) == []


@pytest.mark.e2e
def test_track_metrics_by_their_artists_name_two_joins_away_equal_sql(built):
    assert compare(built, BY_DAY_AND_TRACK_ARTIST, ("track__artist__artist_name",)) == []


@pytest.mark.e2e
def test_playlist_metrics_by_playlist_equal_sql(built):
    assert compare(built, BY_DAY_AND_PLAYLIST, ("playlist",)) == []


@pytest.mark.e2e
def test_playlist_metrics_by_playlist_name_equal_sql_joining_the_playlists(built):
    assert compare(built, BY_DAY_AND_PLAYLIST_NAME, ("playlist__playlist_name",)) == []


@pytest.mark.e2e
def test_the_time_spine_has_every_day_once(built):
    _, warehouse = built
    with duckdb.connect(str(warehouse), read_only=True) as con:
        days, first, last, distinct = con.sql(
            "select count(*), min(date_day), max(date_day), count(distinct date_day) from marts.time_spine_daily"
        ).fetchone()
    assert (first, last) == (date(2008, 1, 1), date(2039, 12, 31))
    assert days == distinct == (last - first).days + 1


@pytest.mark.e2e
@pytest.mark.parametrize("saved_query", sorted(SAVED_QUERIES))
def test_each_saved_query_returns_the_metrics_sql_gives(built, saved_query):
    _, warehouse = built
    rows = mf_query(built, "--saved-query", saved_query)
    assert rows
    keys = tuple(column for column in rows[0] if "__" in column)  # metric names have no "__"
    by = tuple(key for key in keys if key != "metric_time__day")
    expected = {(): BY_DAY, ("artist__artist_name",): BY_DAY_AND_ARTIST}[by]
    metrics = [column for column in rows[0] if column not in keys]
    problems = []
    for metric in metrics:
        problems += differences(metric, metric_values(rows, metric, by), sql_values(warehouse, expected[metric]))
    assert problems == []
