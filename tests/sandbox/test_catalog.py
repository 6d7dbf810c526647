from datetime import date

import pytest

from sandbox.catalog import SANDBOX_USER_ID, Catalog, EntityRef


def test_ids_round_trip_for_every_kind():
    catalog = Catalog(seed=3, tracks=500)
    for kind in ("artist", "album", "track", "playlist"):
        for index in range(0, catalog.count(kind), 7):
            entity_id = catalog.encode_id(kind, index)
            assert len(entity_id) == 22
            assert entity_id.isalnum()
            assert catalog.decode_id(entity_id) == EntityRef(kind, index)


def test_ids_of_another_seed_or_out_of_range_are_unknown():
    catalog = Catalog(seed=3, tracks=500)
    assert catalog.decode_id(Catalog(seed=4, tracks=500).encode_id("track", 1)) is None
    assert catalog.decode_id(catalog.encode_id("track", catalog.track_count)) is None
    assert catalog.decode_id("not-an-id") is None
    assert catalog.decode_id("x" * 22) is None


def test_same_seed_gives_same_catalog_and_another_seed_a_different_one():
    first, again, other = Catalog(seed=11), Catalog(seed=11), Catalog(seed=12)
    assert [first.track_name(t) for t in range(50)] == [again.track_name(t) for t in range(50)]
    assert first.playlist_entries(0, date(2026, 5, 1)) == again.playlist_entries(0, date(2026, 5, 1))
    assert [first.track_name(t) for t in range(50)] != [other.track_name(t) for t in range(50)]


def test_a_million_tracks_need_only_prefix_arrays():
    catalog = Catalog(seed=1, tracks=1_000_000)
    assert catalog.track_count >= 1_000_000
    last = catalog.track_count - 1
    album = catalog.track_album(last)
    assert last in catalog.album_tracks(album)
    assert album in catalog.artist_albums(catalog.album_artist(album))


def test_every_track_belongs_to_exactly_one_album_of_its_artist():
    catalog = Catalog(seed=5, tracks=800)
    seen = []
    for artist in range(catalog.artist_count):
        for album in catalog.artist_albums(artist):
            assert catalog.album_artist(album) == artist
            seen.extend(catalog.album_tracks(album))
    assert seen == list(range(catalog.track_count))


def test_playlists_carry_the_quirks_of_real_data():
    catalog = Catalog(seed=9)
    entries = catalog.playlist_entries(0, date(2026, 11, 1))
    kinds = {e.kind for e in entries}
    assert {"track", "missing", "local", "episode"} <= kinds
    tracks = [e.index for e in entries if e.kind == "track"]
    assert len(tracks) > len(set(tracks)), "one track is listed twice"


def test_playlist_membership_and_order_change_from_day_to_day():
    catalog = Catalog(seed=9)
    monday = [e.index for e in catalog.playlist_entries(2, date(2026, 11, 2)) if e.kind == "track"]
    a_month_later = [e.index for e in catalog.playlist_entries(2, date(2026, 12, 2)) if e.kind == "track"]
    assert set(monday) != set(a_month_later)
    assert monday != a_month_later


def test_release_dates_come_in_year_month_and_day_precision():
    catalog = Catalog(seed=2)
    precisions = {catalog.album_release(a)[1] for a in range(catalog.album_count)}
    assert precisions == {"year", "month", "day"}
    for album in range(200):
        release, precision = catalog.album_release(album)
        assert len(release) == {"year": 4, "month": 7, "day": 10}[precision]


def test_names_include_non_latin_scripts():
    catalog = Catalog(seed=2)
    names = [catalog.track_name(t) for t in range(catalog.track_count)]
    assert any(not name.isascii() for name in names)


@pytest.mark.parametrize("playlist", range(6))
def test_owned_playlists_belong_to_the_sandbox_user_or_are_collaborative(playlist):
    catalog = Catalog(seed=2, playlists=6)
    owned = catalog.playlist_owner(playlist) == SANDBOX_USER_ID or catalog.playlist_is_collaborative(playlist)
    assert (playlist in catalog.owned_playlists()) == owned
