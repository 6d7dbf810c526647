import pytest

from ingestion.spotify import ConfigurationError, parse_tracked
from ingestion.spotify.helpers import endpoint_of, parse_spotify_id

PLAYLIST = "37i9dQZF1DXcBWIGoYBM5M"


@pytest.mark.parametrize(
    "value",
    [
        PLAYLIST,
        f"spotify:playlist:{PLAYLIST}",
        f"https://open.spotify.com/playlist/{PLAYLIST}?si=abc123",
        f"https://open.spotify.com/intl-de/playlist/{PLAYLIST}",
        f"  {PLAYLIST}  ",
    ],
)
def test_playlist_ids_uris_and_urls_give_the_id(value):
    assert parse_spotify_id(value, "playlist", "sources.spotify.playlists") == PLAYLIST


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("37i9dQZF1DXcBWIG", "is not a Spotify playlist id"),
        (f"https://open.spotify.com/album/{PLAYLIST}", "is a album link, expected a playlist"),
        ("https://example.com/playlist/x", "is not a Spotify playlist id"),
    ],
)
def test_a_malformed_id_is_named_with_its_setting(value, expected):
    with pytest.raises(ConfigurationError) as error:
        parse_spotify_id(value, "playlist", "sources.spotify.playlists")
    assert "sources.spotify.playlists" in str(error.value)
    assert repr(value) in str(error.value)
    assert expected in str(error.value)


def test_tracked_ids_are_validated_and_deduplicated():
    tracked = parse_tracked([PLAYLIST, f"spotify:playlist:{PLAYLIST}"], f"{PLAYLIST},{PLAYLIST}")
    assert tracked.playlists == (PLAYLIST,)
    assert tracked.artists == (PLAYLIST,)


def test_queries_are_kept_whole_and_validated():
    assert parse_tracked(None, None, queries="lo-fi beats, to study").queries == ("lo-fi beats, to study",)
    assert parse_tracked(None, None, queries='["a", "b c"]').queries == ("a", "b c")
    with pytest.raises(ConfigurationError, match=r"sources\.spotify\.queries"):
        parse_tracked(None, None, queries=["x" * 201])


def test_endpoints_are_counted_by_template():
    assert endpoint_of("GET", f"https://api.spotify.com/v1/playlists/{PLAYLIST}/items?offset=50") == (
        "GET /v1/playlists/{id}/items"
    )
