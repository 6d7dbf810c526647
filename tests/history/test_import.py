"""`tunelake import-history`, run as users run it, on generated privacy exports of both formats."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import duckdb
import pytest

from ingestion.cli import EXIT_CONFIGURATION, EXIT_PARTIAL
from ingestion.history.importer import import_history
from ingestion.pipeline import ingest
from ingestion.project import PROJECT_VARIABLE
from ingestion.transform import run_dbt
from sandbox import export as exports
from tests.support import file_text, source_for

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

EXTENDED_FOLDER = "Spotify Extended Streaming History"


def tunelake(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The command line, with the raw zone, warehouse and dlt's folder under `root`."""
    environment = os.environ | {
        "TUNELAKE__RAW_ZONE_URL": str(root / "raw"),
        "TUNELAKE__DUCKDB_PATH": str(root / "tunelake.duckdb"),
        "TUNELAKE__PIPELINES_DIR": str(root / "pipelines"),
        PROJECT_VARIABLE: str(root),
    }
    return subprocess.run(
        [sys.executable, "-m", "ingestion.cli", *args],
        cwd=root,
        env=environment,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def counts(root: Path) -> dict[str, int]:
    with duckdb.connect(str(root / "tunelake.duckdb"), read_only=True) as con:
        return {
            table: con.sql(f"select count(*) from spotify.{table}").fetchone()[0]
            for table in ("history_streams", "history_account_plays")
        }


def full_export(path: Path) -> Path:
    """An export as Spotify sends it: 120 + 40 + 10 extended streams (one old file), 50 + 8 account plays."""
    return exports.write_zip(
        path,
        {
            f"{EXTENDED_FOLDER}/Streaming_History_Audio_2019-2020_0.json": exports.extended(120),
            f"{EXTENDED_FOLDER}/Streaming_History_Video_2020.json": exports.extended(10, first=500),
            "MyData/endsong_0.json": exports.extended(40, first=1000, old=True),
            "MyData/StreamingHistory_music_0.json": exports.account_music(50),
            "MyData/StreamingHistory_podcast_0.json": exports.account_podcasts(8),
        },
    )


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    """One export imported into an empty raw zone and warehouse."""
    root = tmp_path_factory.mktemp("import")
    export = full_export(root / "my_spotify_data.zip")
    result = tunelake(root, "import-history", str(export))
    return root, export, result


def test_both_formats_import_with_exact_counts_and_a_summary_per_file(imported):
    root, _, result = imported
    assert result.returncode == 0, result.stderr
    assert counts(root) == {"history_streams": 170, "history_account_plays": 58}
    for name, kept in [
        ("Streaming_History_Audio_2019-2020_0.json: extended streaming history, 120 rows read, 120 kept", 120),
        ("endsong_0.json: extended streaming history, 40 rows read, 40 kept", 40),
        ("StreamingHistory_music_0.json: account data (music), 50 rows read, 50 kept", 50),
        ("StreamingHistory_podcast_0.json: account data (podcasts), 8 rows read, 8 kept", 8),
    ]:
        assert name in result.stdout, (kept, result.stdout)
    assert "Userdata.json" not in result.stdout
    assert "228 new in the warehouse, 0 already there" in result.stdout
    # An empty warehouse knows no track: every account-data music play is unresolved.
    assert "StreamingHistory_music_0.json: account data (music), 50 rows read, 50 kept, 50 unresolved" in result.stdout
    assert "228 kept, 0 rejected, 50 unresolved" in result.stdout


def test_streams_keep_what_was_played_and_for_how_long(imported):
    root, _, _ = imported
    with duckdb.connect(str(root / "tunelake.duckdb"), read_only=True) as con:
        kinds = dict(con.sql("select item_type, count(*) from spotify.history_streams group by 1").fetchall())
        first = con.sql(
            "select track_id, track_name, ms_played, ended_at, source_position from spotify.history_streams "
            "where source_file like '%Audio_2019-2020_0.json' and source_position = 1"
        ).fetchone()
    # Every fifth stream is a podcast episode.
    assert kinds == {"track": 136, "episode": 34}
    assert first[:3] == (exports.TRACKS[1], "Song 1", 200_000)
    assert first[3].isoformat().startswith("2019-03-01T23:07:00")


def test_no_ip_address_user_agent_or_user_name_is_kept_anywhere(imported):
    root, _, result = imported
    places: dict[str, str] = {"output": result.stdout + result.stderr}
    for path in (root / "raw").rglob("*"):
        if path.is_file():
            places[str(path)] = file_text(path)
    for path in (root / "pipelines").rglob("*"):
        if path.is_file():
            places[str(path)] = path.read_bytes().decode(errors="replace")
    with duckdb.connect(str(root / "tunelake.duckdb"), read_only=True) as con:
        for schema, table in con.sql("select table_schema, table_name from information_schema.tables").fetchall():
            rows = con.sql(f'select * from "{schema}"."{table}"').fetchall()
            places[f"warehouse {schema}.{table}"] = json.dumps(rows, default=str)
    assert any("history_streams" in place for place in places)
    leaks = [(place, secret) for place, text in places.items() for secret in exports.PERSONAL if secret in text]
    assert leaks == []


def test_importing_again_or_an_overlapping_export_adds_only_new_streams(imported, tmp_path):
    root, export, _ = imported
    again = tunelake(root, "import-history", str(export))
    assert again.returncode == 0, again.stderr
    assert "0 new in the warehouse, 228 already there" in again.stdout
    assert counts(root) == {"history_streams": 170, "history_account_plays": 58}

    # A year later the user downloads again: the old streams and 30 new ones, in other files.
    later = exports.write_zip(
        tmp_path / "my_spotify_data (1).zip",
        {f"{EXTENDED_FOLDER}/Streaming_History_Audio_2019-2021_0.json": exports.extended(150)},
    )
    overlapping = tunelake(root, "import-history", str(later))
    assert overlapping.returncode == 0, overlapping.stderr
    assert "30 new in the warehouse, 120 already there" in overlapping.stdout
    assert counts(root) == {"history_streams": 200, "history_account_plays": 58}


def test_bad_files_are_named_their_good_rows_kept_and_the_rest_imported(tmp_path):
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "StreamingHistory_music_0.json").write_text(json.dumps(exports.account_music(5)))
    (folder / "StreamingHistory_music_1.json").write_text("this is not JSON")
    (folder / "StreamingHistory_music_2.json").write_text(json.dumps([{"name": "a playlist", "items": []}]))
    whole = json.dumps(exports.extended(20))
    (folder / "Streaming_History_Audio_2020_1.json").write_text(whole[: len(whole) // 2])
    rows = exports.extended(6, first=300)
    rows[3]["ts"] = "2020-13-45 25:61"
    rows.insert(2, None)
    (folder / "Streaming_History_Audio_2020_2.json").write_text(json.dumps(rows))

    result = tunelake(tmp_path, "import-history", str(folder))
    assert result.returncode == EXIT_PARTIAL
    assert "Traceback" not in result.stdout + result.stderr
    lines = result.stdout.splitlines()

    def about(name: str) -> str:
        start = next(i for i, line in enumerate(lines) if name in line)
        return "\n".join(lines[start : start + 3])

    assert "skipped whole: not a JSON array" in about("StreamingHistory_music_1.json")
    assert "skipped whole: neither export format" in about("StreamingHistory_music_2.json")
    truncated = about("Streaming_History_Audio_2020_1.json")
    assert "cut short after row" in truncated
    assert "the rows before it are kept" in truncated
    bad_row = about("Streaming_History_Audio_2020_2.json")
    assert "7 rows read, 5 kept, 1 null entries skipped, 1 rejected" in bad_row
    assert "(first at row 4): ts '2020-13-45 25:61' is not a UTC time" in bad_row

    kept_before_the_cut = int(truncated.split(" kept")[0].rsplit(", ", 1)[1])
    assert kept_before_the_cut >= 5
    assert counts(tmp_path) == {"history_streams": kept_before_the_cut + 5, "history_account_plays": 5}


def test_a_zip_that_expands_far_beyond_its_size_is_refused(tmp_path):
    bomb = tmp_path / "my_spotify_data.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("MyData/StreamingHistory_music_0.json", "[" + " " * 50_000_000 + "]")
    result = tunelake(tmp_path, "import-history", str(bomb))
    assert result.returncode == EXIT_CONFIGURATION
    assert f"Nothing imported: {bomb}: refused" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "tunelake.duckdb").exists()


def test_a_path_that_does_not_exist_is_named(tmp_path):
    result = tunelake(tmp_path, "import-history", "no-such-export.zip")
    assert result.returncode == EXIT_CONFIGURATION
    assert f"Nothing imported: {tmp_path / 'no-such-export.zip'}: no such file or folder" in result.stderr


def test_account_plays_whose_name_and_artist_match_no_known_track_are_counted_unresolved(sandbox, settings, tmp_path):
    ingest(settings, source_for(sandbox))
    with duckdb.connect(settings.duckdb_path, read_only=True) as con:
        known = con.sql(
            "select tracks.name, artists.name from spotify.tracks "
            "inner join spotify.track_artists on tracks.track_id = track_artists.track_id "
            "and track_artists.artist_position = 0 "
            "inner join spotify.artists on track_artists.artist_id = artists.artist_id "
            "where tracks.name <> '' order by tracks.track_id limit 3"
        ).fetchall()
    assert len(known) == 3

    def plays(names: list[tuple[str | None, str | None]], year: int) -> list[dict[str, object]]:
        """Account-data music plays of (track, artist) names, a minute apart; None leaves the field out."""
        return [
            {"endTime": f"{year}-05-01 12:{minute:02d}", "msPlayed": 180_000}
            | ({"trackName": track} if track is not None else {})
            | ({"artistName": artist} if artist is not None else {})
            for minute, (track, artist) in enumerate(names)
        ]

    # Known tracks match whatever the case; a known name by another artist, or no name, does not.
    resolved = [(track.upper(), artist.lower()) for track, artist in known] * 2
    first = plays([*resolved, ("A Song Nobody Knows", "Nobody"), (known[0][0], "Someone Else")], 2021)
    second = plays([("A Song Nobody Knows", "Nobody"), ("Another", "Nobody"), (None, known[1][1])], 2022)
    export = exports.write_zip(
        tmp_path / "export.zip",
        {
            "MyData/StreamingHistory_music_0.json": first,
            "MyData/StreamingHistory_music_1.json": second,
            "MyData/StreamingHistory_podcast_0.json": exports.account_podcasts(4),
        },
    )
    summary = import_history(settings, [export])

    assert summary.complete
    assert [(f.name.rsplit("/", 1)[1], f.kept, f.unresolved) for f in summary.files] == [
        ("StreamingHistory_music_0.json", 8, 2),
        ("StreamingHistory_music_1.json", 3, 3),
        ("StreamingHistory_podcast_0.json", 4, 0),
    ]
    assert summary.unresolved == 5
    report = summary.format()
    assert "StreamingHistory_music_0.json: account data (music), 8 rows read, 8 kept, 2 unresolved" in report
    assert "StreamingHistory_music_1.json: account data (music), 3 rows read, 3 kept, 3 unresolved" in report
    assert "StreamingHistory_podcast_0.json: account data (podcasts), 4 rows read, 4 kept\n" in report
    assert "15 kept, 0 rejected, 5 unresolved" in report

    # The marts resolve the same plays.
    assert run_dbt(["run", "--select", "+fct_listens"], settings=settings).success
    with duckdb.connect(settings.duckdb_path) as con:
        unresolved = con.sql(
            "select count(*) from marts.fct_listens where source = 'account_data' and item_type = 'track' "
            "and not is_resolved"
        ).fetchone()[0]
    assert unresolved == summary.unresolved
