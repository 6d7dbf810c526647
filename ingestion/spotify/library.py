"""The user's own listening and library (with a refresh token): recently played every run, the rest once a day."""

from __future__ import annotations

from typing import Any

from ingestion.spotify import answers, settings
from ingestion.spotify.crawl import Crawl

RECENTLY_PLAYED = "GET /v1/me/player/recently-played"
FOLLOWING = "GET /v1/me/following"
PLAYLISTS = "GET /v1/me/playlists"


def crawl_user(crawl: Crawl) -> None:
    """Recently played first (Spotify keeps only the last 50), then the once-a-day lists in parallel."""
    if not crawl.client.has_user:
        return
    recently_played(crawl)
    tasks = [top_items, saved_tracks, saved_albums, followed_artists, user_playlists]
    crawl.for_each(lambda task: task(crawl), tasks)


def recently_played(crawl: Crawl) -> None:
    after = crawl.state.plays_after_ms
    sp = crawl.client.spotipy
    answer = crawl.fetch("user", "me", RECENTLY_PLAYED, sp.current_user_recently_played, limit=50, after=after)
    if answer is None:
        return
    observed_at = crawl.client.response_time()
    newest = after or 0
    for item in crawl.items(RECENTLY_PLAYED, answers.page_items(answer)):
        parsed = answers.play(item)
        if parsed is None:
            crawl.count_nulls(RECENTLY_PLAYED, 1)
            continue
        row, track = parsed
        newest = max(newest, int(row["played_at"].timestamp() * 1000))
        crawl.emit("plays", row)
        crawl.add_track(track, observed_at)
    crawl.state.plays_after_ms = newest or None


def top_items(crawl: Crawl) -> None:
    if crawl.state.done_on("user:top", crawl.today):
        return
    sp = crawl.client.spotipy
    for kind, fn in (("track", sp.current_user_top_tracks), ("artist", sp.current_user_top_artists)):
        endpoint = f"GET /v1/me/top/{kind}s"
        for time_range in settings.TOP_TIME_RANGES:
            answer = crawl.fetch("user", "me", endpoint, fn, limit=50, time_range=time_range)
            if answer is None:
                return
            observed_at = crawl.client.response_time()
            items = answers.as_list(answers.page_items(answer))
            crawl.count_nulls(endpoint, answers.count_nulls(items))
            key = {"item_type": kind, "time_range": time_range}
            for row, item in answers.ranked("user_top_items", key, items, kind, observed_at):
                crawl.emit("user_top_items", row)
                (crawl.add_track if kind == "track" else crawl.add_artist)(item, observed_at)
    crawl.state.mark_done("user:top", crawl.today)


def saved_tracks(crawl: Crawl) -> None:
    _library(crawl, "saved_tracks", "GET /v1/me/tracks", crawl.client.spotipy.current_user_saved_tracks, "track")


def saved_albums(crawl: Crawl) -> None:
    _library(crawl, "saved_albums", "GET /v1/me/albums", crawl.client.spotipy.current_user_saved_albums, "album")


def _library(crawl: Crawl, name: str, endpoint: str, fn: Any, kind: str) -> None:
    key = f"user:{name}"
    if crawl.state.done_on(key, crawl.today):
        return
    first = crawl.fetch("user", "me", endpoint, fn, limit=settings.PAGE)
    observed_at = crawl.client.response_time()
    items = crawl.pages("user", "me", endpoint, first) if first is not None else None
    if items is None:
        return
    for item in items:
        parsed = answers.saved(item, kind, observed_at)
        if parsed is None:
            crawl.count_nulls(endpoint, 1)
            continue
        row, entity = parsed
        crawl.emit(name, row)
        (crawl.add_track if kind == "track" else crawl.add_album)(entity, observed_at)
    crawl.state.mark_done(key, crawl.today)


def followed_artists(crawl: Crawl) -> None:
    """Followed artists come in cursor pages under `artists`."""
    if crawl.state.done_on("user:following", crawl.today):
        return
    sp = crawl.client.spotipy
    answer = crawl.fetch("user", "me", FOLLOWING, sp.current_user_followed_artists, limit=settings.PAGE)
    observed_at = crawl.client.response_time()
    while answer is not None:
        page = answers.as_dict(answer).get("artists")
        for artist in crawl.items(FOLLOWING, answers.page_items(page)):
            entity = answers.artist(artist, observed_at)
            if entity is None:
                continue
            crawl.emit("followed_artists", answers.followed(entity.entity_id, observed_at))
            crawl.add(entity)
        if not answers.next_url(page):
            crawl.state.mark_done("user:following", crawl.today)
            return
        answer = crawl.fetch("user", "me", FOLLOWING, sp.next, page)


def user_playlists(crawl: Crawl) -> None:
    if crawl.state.done_on("user:playlists", crawl.today):
        return
    first = crawl.fetch("user", "me", PLAYLISTS, crawl.client.spotipy.current_user_playlists, limit=settings.PAGE)
    observed_at = crawl.client.response_time()
    items = crawl.pages("user", "me", PLAYLISTS, first) if first is not None else None
    if items is None:
        return
    for item in items:
        row = answers.user_playlist(item, observed_at)
        if row is None:
            # The legacy "Starred" list has no id: nothing can key it.
            crawl.skip("playlist", "(no id)", f"{PLAYLISTS}: a playlist without an id ({item.get('name')!r})")
            continue
        crawl.emit("user_playlists", row)
    crawl.state.mark_done("user:playlists", crawl.today)
