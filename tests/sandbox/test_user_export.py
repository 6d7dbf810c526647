"""`GET /_sandbox/export`: the sandbox user's privacy export, imported as users import theirs."""

from __future__ import annotations

import io
import itertools
import json
import os
import subprocess
import sys
import zipfile
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
import requests

from ingestion.pipeline import ingest
from ingestion.project import PROJECT_VARIABLE
from ingestion.transform import run_dbt
from sandbox import Catalog, SandboxApi, SandboxServer
from sandbox import export as exports
from sandbox.user_export import EXPORT_DAYS, streams_on
from tests.conftest import START
from tests.support import file_text, other_settings, source_for

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]
# fct_listens' window: an API play and a stream of the same track ending or starting within it are one play.
WINDOW = timedelta(seconds=60)


def download(server: SandboxServer) -> requests.Response:
    answer = requests.get(f"{server.url}/_sandbox/export", timeout=120)
    assert answer.status_code == 200, answer.text
    return answer


def history_rows(archive: zipfile.ZipFile) -> dict[str, list[dict]]:
    return {
        name: json.loads(archive.read(name))
        for name in archive.namelist()
        if "StreamingHistory" in name or "endsong" in name or "Streaming_History" in name
    }


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    """A sandbox day ingested, the export downloaded from the same sandbox and imported, dbt built."""
    root = tmp_path_factory.mktemp("export")
    settings = other_settings(root, "home")
    server = SandboxServer(SandboxApi(Catalog(seed=7, tracks=2_000), today=START)).start()
    try:
        ingest(settings, source_for(server, user=True))
        answer = download(server)
    finally:
        server.stop()
    export = root / "my_spotify_data.zip"
    export.write_bytes(answer.content)
    environment = os.environ | {
        "TUNELAKE__RAW_ZONE_URL": settings.raw_zone_url,
        "TUNELAKE__DUCKDB_PATH": settings.duckdb_path,
        "TUNELAKE__PIPELINES_DIR": settings.pipelines_dir,
        PROJECT_VARIABLE: str(root),
    }
    result = subprocess.run(
        [sys.executable, "-m", "ingestion.cli", "import-history", str(export)],
        cwd=root,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    built = run_dbt(["build", "--quiet"], settings=settings)
    return settings, server, answer, result, built


def test_the_export_is_a_zip_download_named_as_spotifys(imported):
    _, _, answer, _, _ = imported
    assert answer.headers["Content-Type"] == "application/zip"
    assert answer.headers["Content-Disposition"] == 'attachment; filename="my_spotify_data.zip"'
    with zipfile.ZipFile(io.BytesIO(answer.content)) as archive:
        names = archive.namelist()
    assert any(name.startswith("MyData/endsong_") for name in names)
    assert any(name.startswith("Spotify Extended Streaming History/Streaming_History_Audio_") for name in names)
    assert any(name.startswith("MyData/StreamingHistory_music_") for name in names)
    assert "MyData/StreamingHistory_podcast_0.json" in names


def test_it_holds_three_years_with_the_quirks_of_real_exports(imported):
    _, _, answer, _, _ = imported
    with zipfile.ZipFile(io.BytesIO(answer.content)) as archive:
        files = history_rows(archive)
    streams = [row for name, rows in files.items() if "StreamingHistory" not in name for row in rows]
    account = [row for name, rows in files.items() if "StreamingHistory_music" in name for row in rows]
    ended = sorted(datetime.strptime(row["ts"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC) for row in streams)
    assert ended[0].date() >= START - timedelta(days=EXPORT_DAYS)
    assert ended[-1].date() <= START
    assert len({moment.year for moment in ended}) >= 3

    # About a quarter of the streams start before the previous one ended.
    timed = sorted(
        (datetime.strptime(r["ts"], "%Y-%m-%dT%H:%M:%SZ"), timedelta(milliseconds=r["ms_played"])) for r in streams
    )
    overlapping = sum(1 for (before, _), (end, played) in itertools.pairwise(timed) if end - played < before)
    assert 0.2 < overlapping / len(streams) < 0.3

    def kind(row: dict) -> str:
        if row.get("audiobook_title"):
            return "audiobook"
        if row["episode_name"]:
            return "episode"
        if not row["spotify_track_uri"]:
            return "unknown"
        return "track" if row["master_metadata_track_name"] else "unnamed track"

    kinds = Counter(kind(row) for row in streams)
    assert kinds["audiobook"] > 0
    assert min(kinds[k] for k in ("track", "episode", "unknown", "unnamed track")) > 50, kinds
    # Old files say nothing of skips; in the years before the last the export says false, however short.
    old = [row for name, rows in files.items() if "endsong" in name for row in rows]
    assert {row["skipped"] for row in old} == {None}
    assert all("username" in row and "ip_addr_decrypted" in row for row in old)
    new = [row for name, rows in files.items() if "Streaming_History_Audio" in name for row in rows]
    assert all("ip_addr" in row and "audiobook_uri" in row for row in new)
    short_skips = [r for r in streams if r["reason_end"] == "fwdbtn" and r["ms_played"] < 30_000]
    assert Counter(r["skipped"] for r in short_skips).keys() == {None, False, True}
    # Account data: names only, to the minute, the last year.
    assert set(account[0]) == {"endTime", "artistName", "trackName", "msPlayed"}
    assert len(account[0]["endTime"]) == len("2026-01-01 12:34")
    assert account[0]["endTime"] >= str(START - timedelta(days=366))


def test_it_imports_whole_and_keeps_no_personal_field(imported):
    settings, _, answer, result, _ = imported
    assert result.returncode == 0, result.stderr
    assert "0 rejected" in result.stdout
    with zipfile.ZipFile(io.BytesIO(answer.content)) as archive:
        unpacked = "".join(archive.read(name).decode() for name in archive.namelist())
    assert all(secret in unpacked for secret in exports.PERSONAL)

    places: dict[str, str] = {}
    for file in Path(settings.raw_zone_url).rglob("*"):
        if file.is_file():
            places[str(file)] = file_text(file)
    with duckdb.connect(settings.duckdb_path) as con:
        for schema, table in con.sql("select table_schema, table_name from information_schema.tables").fetchall():
            places[f"{schema}.{table}"] = json.dumps(
                con.sql(f'select * from "{schema}"."{table}"').fetchall(), default=str
            )
    assert any("history_streams" in place for place in places)
    assert [(p, s) for p, text in places.items() for s in exports.PERSONAL if s in text] == []


def test_an_api_play_the_export_holds_is_one_listen(imported):
    settings, server, answer, _, built = imported
    assert built.success
    catalog, listener = server.api.catalog, server.api.listener
    with duckdb.connect(settings.duckdb_path) as con:
        api_plays = con.sql("select played_at, track_id from spotify.plays").fetchall()
        by_source = dict(con.sql("select source, count(*) from marts.fct_listens group by 1").fetchall())
    with zipfile.ZipFile(io.BytesIO(answer.content)) as archive:
        files = history_rows(archive)
    extended_rows = sum(len(rows) for name, rows in files.items() if "StreamingHistory" not in name)

    # The export's stream of each API play, from the sandbox's own days (the export ends before today).
    days = {played_at.date() for played_at, _ in api_plays}
    heard = {
        stream.play.played_at: stream
        for day in days
        if day < START
        for stream in streams_on(listener, day)
        if stream.play is not None
    }

    def covered(played_at: datetime, track_id: str) -> bool:
        stream = heard.get(played_at.astimezone(UTC))
        return (
            stream is not None
            and catalog.encode_id("track", stream.track) == track_id
            and (abs(stream.ended - played_at) <= WINDOW or abs(stream.started - played_at) <= WINDOW)
        )

    seen_by_both = sum(covered(played_at, track_id) for played_at, track_id in api_plays)
    assert 0 < seen_by_both < len(api_plays)
    # Every extended stream once, the account data wholly inside it, the API's other plays beside them.
    assert by_source == {"extended_history": extended_rows, "api": len(api_plays) - seen_by_both}


def test_the_same_seed_and_date_give_the_same_bytes_and_another_date_others(start_sandbox):
    first, again = start_sandbox(seed=11), start_sandbox(seed=11)
    later = start_sandbox(seed=11, today=START + timedelta(days=1))
    assert download(first).content == download(again).content
    assert download(later).content != download(first).content
