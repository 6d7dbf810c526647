"""The loader against the sandbox: every resource, the minimum request count, resumption, faults."""

from __future__ import annotations

import math
from datetime import date

import duckdb
import pytest

from ingestion.pipeline import CoolingDownError, ingest
from ingestion.spotify import settings, tables
from sandbox import Catalog
from tests.support import (
    ALBUMS,
    ARTISTS,
    DAY,
    QUERIES,
    mart_rows,
    other_settings,
    reset_stats,
    source_for,
    stats,
    table_counts,
)


@pytest.mark.e2e
@pytest.mark.parametrize("tier", ["development", "extended"])
def test_both_tiers_load_every_resource(start_sandbox, settings, tier):
    server = start_sandbox(tier=tier)
    summary = ingest(settings, source_for(server, user=True))
    assert summary.tier == tier
    assert summary.stopped is None
    # Every table the crawler loads has rows (the privacy export's come from `import-history`).
    crawled = {table.name for table in tables.API}
    empty = [table for table, count in table_counts(settings).items() if count == 0 and table in crawled]
    assert empty == []
    catalog = server.api.catalog
    refused = {s.entity_id for s in summary.skipped if s.kind == "playlist" and "404" in s.reason}
    editorial = {catalog.encode_id("playlist", p) for p in range(12) if catalog.playlist_is_editorial(p)}
    assert refused == (editorial if tier == "development" else set()), "404s are reported, the rest loads"
    withheld = [s for s in summary.skipped if s.kind in ("album", "artist", "track")]
    assert withheld, "the sandbox withholds some entities, as Spotify does"
    for skipped in withheld:
        ref = catalog.decode_id(skipped.entity_id)
        assert catalog.is_withheld(ref.kind, ref.index), skipped
    with duckdb.connect(settings.duckdb_path) as con:
        popularity = con.sql("select count(popularity) from spotify.tracks").fetchone()[0]
        followers = con.sql("select count(followers) from spotify.artists").fetchone()[0]
    assert (popularity > 0, followers > 0) == ((True, True) if tier == "extended" else (False, False))
    batches = {"GET /v1/tracks", "GET /v1/albums", "GET /v1/artists"}
    answered = sum(n for (endpoint, status), n in stats(server).items() if endpoint in batches and status == 200)
    refused = sum(n for (endpoint, status), n in stats(server).items() if endpoint in batches and status != 200)
    assert (answered > 0) == (tier == "extended")
    # The tier is decided from what the endpoints allow: one batch request, refused in development mode.
    assert refused == (1 if tier == "development" else 0)
    assert summary.tier_reason == (
        "GET /v1/artists refused (403)" if tier == "development" else "GET /v1/artists answered"
    )


@pytest.mark.e2e
def test_a_development_app_told_it_has_extended_quota_asks_a_lacking_endpoint_once(sandbox, settings):
    summary = ingest(settings, source_for(sandbox, tier="extended"))
    refused = {
        endpoint: n for (endpoint, status), n in stats(sandbox).items() if status == 403 and "{id}" not in endpoint
    }
    assert sum(refused.values()) == 1, refused
    assert summary.tier == "development"
    assert table_counts(settings)["tracks"] > 0


def minimum_development_requests(catalog: Catalog, day: date) -> int:
    """The fewest requests a development-mode app can load this configuration with (README formula)."""
    page, artist_albums_page, search_page = 50, 10, 10
    depth = settings.SEARCH_DEPTH
    total = 1 + 1  # the token, and the batch request that shows the tier (refused)
    in_hand_tracks: set[int] = set()
    for playlist in range(catalog.playlist_count):
        total += 1
        if playlist in catalog.owned_playlists():
            entries = catalog.playlist_entries(playlist, day)
            total += math.ceil(max(0, len(entries) - page) / page)
            in_hand_tracks |= {e.index for e in entries if e.kind == "track"}
    discography_albums = set()
    for artist in ARTISTS:
        # A discography Spotify withholds answers 404 at once.
        albums = [] if catalog.is_withheld("artist", artist) else list(catalog.artist_albums(artist))
        total += max(1, math.ceil(len(albums) / artist_albums_page))
        discography_albums |= set(albums)
    search_albums, search_artists = set(), set()
    for query in QUERIES:
        total += math.ceil(depth / search_page)
        in_hand_tracks |= set(catalog.search("track", query, day)[:depth])
        search_artists |= set(catalog.search("artist", query, day)[:depth])
        search_albums |= set(catalog.search("album", query, day)[:depth])
    expanded = discography_albums | set(ALBUMS)
    # A withheld album answers 404: its tracks are not listed.
    album_tracks = {
        t for album in expanded if not catalog.is_withheld("album", album) for t in catalog.album_tracks(album)
    }
    fetched_tracks = album_tracks - in_hand_tracks
    all_tracks = in_hand_tracks | album_tracks
    albums = {catalog.track_album(t) for t in all_tracks} | expanded | search_albums
    artists = {a for t in all_tracks for a in catalog.track_artists(t)}
    artists |= {a for album in albums for a in catalog.album_artists(album)} | set(ARTISTS)
    return total + len(albums) + len(fetched_tracks) + len(artists - search_artists)


@pytest.mark.e2e
def test_a_development_run_sends_exactly_the_minimum_number_of_requests(sandbox, settings):
    ingest(settings, source_for(sandbox))
    assert sum(stats(sandbox).values()) == minimum_development_requests(sandbox.api.catalog, DAY)


@pytest.mark.e2e
def test_a_second_run_on_the_same_day_costs_under_5_percent_and_duplicates_nothing(sandbox, settings):
    first = ingest(settings, source_for(sandbox, user=True))
    before = mart_rows(settings)
    reset_stats(sandbox)
    second = ingest(settings, source_for(sandbox, user=True))
    first_requests, second_requests = sum(first.requests.values()), sum(second.requests.values())
    assert second_requests <= 0.05 * first_requests, (first_requests, second.requests)
    assert mart_rows(settings) == before


@pytest.mark.e2e
def test_a_run_through_20_percent_faults_ends_with_the_rows_of_a_clean_run(start_sandbox, tmp_path):
    clean_server, faulty_server = start_sandbox(), start_sandbox()
    clean, faulty = other_settings(tmp_path, "clean"), other_settings(tmp_path, "faulty")
    ingest(clean, source_for(clean_server))
    faulty_server.api.faults.configure(
        {"fail_rate": 0.2, "fail_kinds": ["429", "500", "502", "503", "reset", "truncate"], "retry_after": 1, "seed": 3}
    )
    summary = ingest(faulty, source_for(faulty_server))
    failures = sum(n for (_, status), n in stats(faulty_server).items() if status != 200)
    assert failures > 0.1 * sum(stats(faulty_server).values())
    assert summary.stopped is None
    assert mart_rows(faulty) == mart_rows(clean)


@pytest.mark.e2e
def test_an_hours_long_429_stops_the_run_which_resumes_after_the_cooldown(start_sandbox, tmp_path):
    clean_server, server = start_sandbox(), start_sandbox()
    clean, limited = other_settings(tmp_path, "clean"), other_settings(tmp_path, "limited")
    ingest(clean, source_for(clean_server))
    server.api.faults.configure(
        {"script": [{"kind": "429", "retry_after": 7200, "reason": "QUOTA_EXCEEDED", "after": 60}]}
    )

    stopped = ingest(limited, source_for(server))
    assert stopped.stopped
    assert "7200" in stopped.stopped
    assert stopped.seconds < 60
    kept = table_counts(limited)
    assert kept["playlist_items"] > 0, "what was collected before the 429 is loaded"

    reset_stats(server)
    with pytest.raises(CoolingDownError):
        ingest(limited, source_for(server))
    assert stats(server) == {("POST /api/token", 200): 1}

    server.api.clock.advance(7200)
    resumed = ingest(limited, source_for(server))
    assert resumed.stopped is None
    assert mart_rows(limited) == mart_rows(clean)
