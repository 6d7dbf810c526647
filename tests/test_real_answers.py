"""Every shape Spotify's real answers take, from the sandbox through `ingest` and `dbt build` to the marts.

The sandbox sends the quirks of `shared/API-2026.md` ("What real answers contain") at seeded
rates; here 5% of albums, artists and tracks answer 404 when asked for by id. Each tier is
ingested on two days with the user's listening and a market, then built once; each test
follows one quirk to the rows a reader sees.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from ingestion.cli import main
from ingestion.config import Settings
from ingestion.pipeline import RunSummary, ingest
from ingestion.transform import run_dbt
from sandbox import Catalog, SandboxApi, SandboxServer
from tests.support import DAY, cli_environment, reset_stats, source_for, stats

WITHHELD = 0.05
DAYS = (DAY, DAY + timedelta(days=1))


@dataclass
class Loaded:
    """A warehouse built from two days of one tier, with what the runs reported."""

    tier: str
    settings: Settings
    server: SandboxServer
    summaries: list[RunSummary]

    @property
    def catalog(self) -> Catalog:
        return self.server.api.catalog

    def query(self, sql: str) -> list[tuple]:
        # Not read-only: dbt, run in this process, may still hold the file with default settings.
        with duckdb.connect(self.settings.duckdb_path) as con:
            return con.sql(sql).fetchall()

    def skipped(self, kind: str) -> set[str]:
        return {s.entity_id for summary in self.summaries for s in summary.skipped if s.kind == kind}


def load(root: Path, tier: str) -> Loaded:
    settings = Settings(
        raw_zone_url=str(root / "raw"), duckdb_path=str(root / "tunelake.duckdb"), pipelines_dir=str(root / "pipes")
    )
    server = SandboxServer(SandboxApi(Catalog(seed=7, tracks=2_000, withheld=WITHHELD), tier=tier, today=DAY)).start()
    summaries = []
    for day in DAYS:
        server.api.clock.set_date(day)
        summaries.append(ingest(settings, source_for(server, user=True)))
    run_dbt(["build", "--quiet"], duckdb_path=settings.duckdb_path)  # raises unless every test passes
    return Loaded(tier, settings, server, summaries)


@pytest.fixture(scope="module")
def warehouses(tmp_path_factory):
    """One built warehouse per tier, loaded the first time a test asks for it."""
    built: dict[str, Loaded] = {}

    def get(tier: str) -> Loaded:
        if tier not in built:
            built[tier] = load(tmp_path_factory.mktemp(tier), tier)
        return built[tier]

    yield get
    for result in built.values():
        result.server.stop()


@pytest.fixture(params=["development", "extended"])
def loaded(request, warehouses) -> Loaded:
    return warehouses(request.param)


@pytest.fixture
def extended(warehouses) -> Loaded:
    return warehouses("extended")


@pytest.fixture
def development(warehouses) -> Loaded:
    return warehouses("development")


def decoded(catalog: Catalog, entity_id: str) -> tuple[str, int]:
    ref = catalog.decode_id(entity_id)
    assert ref is not None, entity_id
    return ref.kind, ref.index


pytestmark = pytest.mark.e2e


def test_null_entries_in_library_pages_are_counted_and_every_other_entry_loads(loaded):
    catalog, listener = loaded.catalog, loaded.server.api.listener
    saved = listener.saved_tracks(DAYS[-1])
    nulls = [t for t, _ in saved if catalog.is_null_entry("tracks", t)]
    assert nulls, "the sandbox sends null entries in /me/tracks"
    assert loaded.summaries[-1].nulls["GET /v1/me/tracks"] == len(nulls)
    expected = {catalog.encode_id("track", t) for t, _ in saved if not catalog.is_null_entry("tracks", t)}
    assert {row[0] for row in loaded.query("select track_id from spotify.saved_tracks")} == expected
    in_marts = {row[0] for row in loaded.query("select track_id from marts.dim_tracks")}
    assert expected <= in_marts


def test_what_spotify_withholds_keeps_a_flagged_row_with_the_name_an_answer_carried(loaded):
    catalog = loaded.catalog
    names = {"album": catalog.album_name, "artist": catalog.artist_name, "track": catalog.track_name}
    for kind in ("album", "artist"):
        withheld = loaded.skipped(kind)
        assert withheld, f"the sandbox withholds some {kind}s"
        rows = {
            row[0]: row[1:]
            for row in loaded.query(
                f"select {kind}_id, {kind}_name, is_unavailable, unavailable_reason from marts.dim_{kind}s"
            )
        }
        for entity_id in withheld:
            ref_kind, index = decoded(catalog, entity_id)
            assert catalog.is_withheld(ref_kind, index)
            name, is_unavailable, reason = rows[entity_id]
            assert is_unavailable is True
            assert "404" in reason or "null" in reason
            assert name in (None, names[kind](index)), "the name is the one the mentioning answer carried"
    albums = loaded.skipped("album")
    named = loaded.query("select count(*) from marts.dim_albums where is_unavailable and album_name is not null")[0][0]
    assert named >= 1
    assert len(albums) >= 1
    # Facts that reference them still join (dbt build passed its relationships tests).
    assert (
        loaded.query(
            "select count(*) from marts.fct_album_popularity_daily f join marts.dim_albums d using (album_id) "
            "where d.is_unavailable"
        )[0][0]
        > 0
    )


def test_the_run_summary_counts_what_spotify_would_not_serve(loaded):
    text = loaded.summaries[0].format()
    assert "Spotify would not serve" in text
    assert "null entries" in text


def test_old_tracks_played_without_their_album_still_get_their_album(loaded):
    catalog = loaded.catalog
    plays = loaded.query("select track_id, album_id from marts.fct_plays")
    legacy = [(t, a) for t, a in plays if catalog.is_legacy_track(decoded(catalog, t)[1])]
    assert legacy, "the sandbox sends old tracks without their album in recently played"
    for track_id, album_id in legacy:
        index = decoded(catalog, track_id)[1]
        if not catalog.is_withheld("track", index):
            assert album_id == catalog.encode_id("album", catalog.track_album(index))


def test_the_tier_comes_from_the_endpoints_and_objects_without_popularity_stay_null(loaded):
    for summary in loaded.summaries:
        assert summary.tier == loaded.tier
        assert summary.tier_reason.startswith("GET /v1/artists")
    catalog = loaded.catalog
    rows = loaded.query("select track_id, latest_popularity from marts.dim_tracks where not is_unavailable")
    for track_id, popularity in rows:
        kind, index = decoded(catalog, track_id)
        if kind != "track":
            continue
        expected_null = loaded.tier == "development" or catalog.is_legacy_track(index)
        assert (popularity is None) == expected_null, (track_id, popularity)


def test_the_starred_list_without_an_id_is_reported_and_the_others_load(loaded):
    assert any(s.entity_id == "(no id)" and "Starred" in s.reason for s in loaded.summaries[0].skipped)
    ids = [row[0] for row in loaded.query("select playlist_id from spotify.user_playlists")]
    assert None not in ids
    assert len(ids) > 0


def test_a_relinked_track_is_one_track_under_the_id_that_was_asked_for(extended):
    catalog = extended.catalog
    relinked = extended.query("select track_id, playable_track_id from marts.dim_tracks where is_relinked")
    assert relinked, "with extended quota and a market the sandbox relinks some tracks"
    for track_id, playable_id in relinked:
        kind, index = decoded(catalog, track_id)
        assert (kind, catalog.is_relinked(index)) == ("track", True)
        assert decoded(catalog, playable_id) == ("relink", index)
    referenced = extended.query(
        "select track_id from marts.fct_playlist_tracks union select track_id from marts.fct_plays "
        "union select track_id from marts.dim_tracks"
    )
    assert [t for (t,) in referenced if decoded(catalog, t)[0] == "relink"] == []


def test_development_mode_marks_tracks_unplayable_in_the_market(development):
    """Development mode lost `linked_from`: a track not available in the market shows as unplayable."""
    catalog = development.catalog
    rows = development.query(
        "select track_id, is_playable, restriction_reason from marts.dim_tracks where not is_unavailable "
        "and not is_ghost and is_playable is not null"
    )
    unplayable = [(t, r) for t, playable, r in rows if playable is False]
    assert unplayable
    for track_id, reason in unplayable:
        assert catalog.is_relinked(decoded(catalog, track_id)[1])
        assert reason == "market"


def test_editorial_entries_have_no_added_date_and_ghost_tracks_are_flagged(extended):
    catalog = extended.catalog
    editorial = [catalog.encode_id("playlist", p) for p in range(catalog.playlist_count)]
    editorial = [p for p in editorial if catalog.playlist_is_editorial(decoded(catalog, p)[1])]
    raw = extended.query(
        "select distinct cast(added_at as date) from spotify.playlist_items where playlist_id in ({})".format(
            ", ".join(f"'{p}'" for p in editorial)
        )
    )
    assert raw == [(date(1970, 1, 1),)], "Spotify sends the epoch for editorial entries"
    marts = extended.query(
        "select count(*), count(added_at) from marts.fct_playlist_tracks where playlist_id in ({})".format(
            ", ".join(f"'{p}'" for p in editorial)
        )
    )
    assert marts[0][0] > 0
    assert marts[0][1] == 0
    ghosts = extended.query("select track_id, track_name, duration_ms from marts.dim_tracks where is_ghost")
    assert ghosts
    assert all(decoded(catalog, t)[0] == "ghost" and name == "" and ms == 0 for t, name, ms in ghosts)


def test_release_dates_of_0000_are_no_date_and_long_names_arrive_whole(loaded):
    catalog = loaded.catalog
    undated = loaded.query(
        "select a.album_id, d.release_date from spotify.albums a join marts.dim_albums d using (album_id) "
        "where a.release_date = '0000'"
    )
    assert undated
    assert all(release_date is None for _, release_date in undated)
    long_names = loaded.query("select track_id, track_name from marts.dim_tracks where length(track_name) > 150")
    assert long_names
    for track_id, name in long_names:
        _kind, index = decoded(catalog, track_id)
        assert name == catalog.track_name(index)


def test_null_images_descriptions_and_adders_become_null_columns(loaded):
    catalog = loaded.catalog
    descriptions = dict(loaded.query("select playlist_id, description from spotify.playlists"))
    for playlist_id, description in descriptions.items():
        assert (description is None) == (decoded(catalog, playlist_id)[1] % 3 == 2)
    albums = loaded.query("select album_id, image_url from marts.dim_albums where not is_unavailable")
    for album_id, image_url in albums:
        assert (image_url is None) == (not catalog.has_images(1, decoded(catalog, album_id)[1]))
    assert loaded.query("select count(*) from spotify.playlist_items where added_by_id is null")[0][0] > 0


def test_a_playlist_spotify_refuses_is_reported_every_run_and_asked_once_a_day(tmp_path, start_sandbox):
    server = start_sandbox()
    settings = Settings(
        raw_zone_url=str(tmp_path / "raw"),
        duckdb_path=str(tmp_path / "w.duckdb"),
        pipelines_dir=str(tmp_path / "pipelines"),
    )
    first = ingest(settings, source_for(server, user=True))
    refused = {s.entity_id for s in first.skipped if s.kind == "playlist" and "404" in s.reason}
    assert refused
    source = source_for(server, user=True)
    reset_stats(server)
    again = ingest(settings, source)
    assert sum(stats(server).values()) == 2, stats(server)  # the token and recently played
    assert {s.entity_id for s in again.skipped if s.kind == "playlist" and "404" in s.reason} == refused
    assert "editorial" in next(s.reason for s in again.skipped if s.entity_id in refused)


def test_a_distribution_check_warns_and_keeps_its_rows_while_the_core_marts_build(tmp_path):
    """An app that loses extended quota: a day without popularity after days with it."""
    settings = Settings(
        raw_zone_url=str(tmp_path / "raw"),
        duckdb_path=str(tmp_path / "w.duckdb"),
        pipelines_dir=str(tmp_path / "pipelines"),
    )
    for tier, day in (("extended", DAY), ("development", DAY + timedelta(days=1))):
        server = SandboxServer(SandboxApi(Catalog(seed=7, tracks=2_000), tier=tier, today=day)).start()
        try:
            ingest(settings, source_for(server, user=True))
        finally:
            server.stop()
    result = run_dbt(["build", "--quiet"], duckdb_path=settings.duckdb_path)
    warned = [r.node.name for r in result.result if str(r.status) == "warn"]
    assert any(name.startswith("null_share_outside_fct_track_popularity_daily") for name in warned), warned
    with duckdb.connect(settings.duckdb_path) as con:
        assert con.sql("select count(*) from marts.dim_tracks").fetchone()[0] > 0
        assert con.sql("select count(*) from marts.fct_plays").fetchone()[0] > 0
        stored = con.sql(
            "select table_name from information_schema.tables "
            "where table_schema = 'test_failures' and table_name like 'null_share_outside%'"
        ).fetchall()
        assert len(stored) == 1
        assert con.sql(f"select count(*) from test_failures.{stored[0][0]}").fetchone()[0] == 1


def test_a_run_where_5_percent_of_albums_and_artists_answer_404_exits_0_with_them_flagged(tmp_path):
    server = SandboxServer(SandboxApi(Catalog(seed=7, tracks=2_000, withheld=WITHHELD), today=DAY)).start()
    catalog = server.api.catalog
    try:
        environment = cli_environment(
            server,
            tmp_path,
            playlists=[catalog.encode_id("playlist", p) for p in catalog.owned_playlists()],
            artists=[catalog.encode_id("artist", a) for a in range(0, 60, 3)],
            market="DE",
        )
        run = CliRunner().invoke(main, ["run"], env=environment)
    finally:
        server.stop()
    assert run.exit_code == 0, run.output[-3000:]
    assert "Spotify would not serve" in run.output
    with duckdb.connect(str(tmp_path / "tunelake.duckdb")) as con:
        for kind in ("album", "artist"):
            flagged = con.sql(f"select count(*) from marts.dim_{kind}s where is_unavailable").fetchone()[0]
            assert flagged > 0, kind
