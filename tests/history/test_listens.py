"""`fct_listens`: the export's streams and the API's plays in one fact, each play once."""

from __future__ import annotations

from datetime import timedelta

import duckdb
import pytest

from ingestion.config import Settings
from ingestion.history.importer import import_history
from ingestion.pipeline import ingest
from ingestion.transform import run_dbt
from sandbox import export as exports
from tests.support import source_for

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]
SEEN_BY_BOTH = 10
OLDER = 60


def test_a_play_the_export_and_the_api_both_saw_is_one_row_with_the_apis_context(sandbox, tmp_path):
    settings = Settings(
        raw_zone_url=str(tmp_path / "raw"),
        duckdb_path=str(tmp_path / "tunelake.duckdb"),
        pipelines_dir=str(tmp_path / "pipelines"),
    )
    ingest(settings, source_for(sandbox, user=True))
    with duckdb.connect(settings.duckdb_path, read_only=True) as con:
        api_plays = con.sql("select played_at, track_id, context_type from spotify.plays order by played_at").fetchall()
    assert len(api_plays) > SEEN_BY_BOTH

    # The export holds older streams and the latest API plays, ended 30 s after the API's time.
    streams = exports.extended(OLDER)
    for played_at, track_id, _ in api_plays[-SEEN_BY_BOTH:]:
        stream = exports.extended(1)[0] | {
            "ts": (played_at + timedelta(seconds=30)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "spotify_track_uri": f"spotify:track:{track_id}",
            "ms_played": 123_456,
        }
        streams.append(stream)
    export = exports.write_zip(tmp_path / "export.zip", {"MyData/endsong_0.json": streams})
    summary = import_history(settings, [export])
    assert summary.complete

    result = run_dbt(["build"], settings=settings)
    assert result.success
    # dbt-duckdb keeps its connection open in this process: one of the same configuration.
    with duckdb.connect(settings.duckdb_path) as con:
        by_source = dict(con.sql("select source, count(*) from marts.fct_listens group by 1").fetchall())
        seen_by_both = con.sql(
            "select track_id, ms_played, context_type from marts.fct_listens "
            "where source = 'extended_history' and ms_played = 123456 order by ended_at"
        ).fetchall()
    assert by_source == {"extended_history": OLDER + SEEN_BY_BOTH, "api": len(api_plays) - SEEN_BY_BOTH}
    # Each keeps the export's time played and the API's context.
    assert seen_by_both == [(track_id, 123_456, context) for _, track_id, context in api_plays[-SEEN_BY_BOTH:]]
