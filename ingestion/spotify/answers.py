"""Spotify answers to table rows: every field optional, every list may hold a null.

Spotify's real answers depart from its definition (`shared/API-2026.md`, "What real answers
contain"): nulls inside lists, nulls where a value is promised, relinked tracks, two names for
one container, fields that come and go by tier. Every function here takes an answer as it
arrived, reads it through `as_dict`, `as_list` and `_text` only, and never raises on its shape: an
entry that is not an object is counted and skipped, a field that is null or absent becomes a
null column. Nothing here sends a request or keeps state, so the fuzz test can feed it
anything the definition allows and more.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ingestion.spotify.tables import BY_NAME as TABLES

Row = dict[str, Any]
_ID = re.compile(r"[0-9A-Za-z]{22}")


@dataclass(frozen=True)
class Ref:
    """An entity as another answer mentioned it: enough for a dimension row if it is never fetched."""

    kind: str
    entity_id: str
    name: str | None = None
    album: Ref | None = None
    artists: tuple[Ref, ...] = ()

    def merged(self, other: Ref | None) -> Ref:
        """This reference with what `other` (of the same entity) knows and this one does not."""
        if other is None:
            return self
        return Ref(
            self.kind,
            self.entity_id,
            self.name or other.name,
            self.album or other.album,
            self.artists or other.artists,
        )

    def to_state(self) -> dict[str, Any]:
        """A JSON form for the pipeline state (a stopped run's backlog)."""
        return {
            "name": self.name,
            "album": [self.album.entity_id, self.album.name] if self.album else None,
            "artists": [[a.entity_id, a.name] for a in self.artists],
        }

    @classmethod
    def from_state(cls, kind: str, entity_id: str, value: Any) -> Ref:
        value = as_dict(value)
        album = as_list(value.get("album"))
        artists = tuple(Ref("artist", a[0], a[1]) for a in as_list(value.get("artists")) if len(a) == 2)
        return cls(
            kind, entity_id, value.get("name"), Ref("album", album[0], album[1]) if len(album) == 2 else None, artists
        )


@dataclass
class Entity:
    """One whole entity of an answer: its rows per table and the entities it references."""

    kind: str
    entity_id: str
    rows: list[tuple[str, Row]] = field(default_factory=list)
    refs: list[Ref] = field(default_factory=list)


def as_dict(value: Any) -> dict[str, Any]:
    """`value` if it is an object, else an empty one."""
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    """`value` if it is a list, else an empty one."""
    return value if isinstance(value, list) else []


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def spotify_id(value: Any) -> str | None:
    """A Spotify id (22 base62 characters), or None: anything else cannot be asked for or joined."""
    return value if isinstance(value, str) and _ID.fullmatch(value) else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def entries(value: Any) -> tuple[list[dict[str, Any]], int]:
    """The objects of a list and how many of its entries were not objects (nulls, mostly)."""
    items = as_list(value)
    objects = [item for item in items if isinstance(item, dict)]
    return objects, len(items) - len(objects)


def count_nulls(items: Any) -> int:
    """How many entries of a list are not objects."""
    return sum(1 for item in as_list(items) if not isinstance(item, dict))


def lacks_album(track: dict[str, Any]) -> bool:
    """Old recently-played tracks arrive without their album: such a track is fetched whole."""
    return not isinstance(track.get("album"), dict)


def page_items(page: Any) -> Any:
    """The `items` of a paging object (None when the page is not an object)."""
    return as_dict(page).get("items")


def next_url(page: Any) -> str | None:
    return _text(as_dict(page).get("next"))


def container(payload: Any) -> dict[str, Any]:
    """A playlist's entries or count: `items` since 2026, `tracks` before, often both."""
    payload = as_dict(payload)
    return as_dict(payload.get("items")) or as_dict(payload.get("tracks"))


def largest_image(images: Any) -> str | None:
    candidates = [image for image in as_list(images) if isinstance(image, dict) and _text(image.get("url"))]
    if not candidates:
        return None
    return max(candidates, key=lambda image: _int(image.get("width")) or 0)["url"]


def ref(kind: str, payload: Any) -> Ref | None:
    """What an answer says of an entity it mentions (a track's album, an album's artists)."""
    payload = as_dict(payload)
    entity_id = spotify_id(payload.get("id"))
    if entity_id is None:
        return None
    if kind == "track":
        entity_id = track_ids(payload)[0] or entity_id
    artists = tuple(a for a in (ref("artist", x) for x in as_list(payload.get("artists"))) if a)
    album = ref("album", payload.get("album")) if kind == "track" else None
    return Ref(kind, entity_id, _text(payload.get("name")), album, artists if kind != "artist" else ())


# tracks, albums, artists --------------------------------------------------------------------


def track_ids(track: dict[str, Any], requested_id: str | None = None) -> tuple[str | None, str | None]:
    """(the catalog id, the playable id) of a track.

    A relinked track (asked for with a market where it is not available) comes back under the
    id of its playable equivalent, with the id asked for in `linked_from`. The catalog id is
    the one asked for, so one song stays one track whatever the market; without `linked_from`
    (development mode lacks it) a direct fetch still knows which id it asked for.
    """
    playable = spotify_id(track.get("id"))
    linked = spotify_id(as_dict(track.get("linked_from")).get("id"))
    catalog = linked or requested_id or playable
    return catalog, playable


def _observed(kind: str, entity_id: str, payload: dict[str, Any], observed_at: datetime, **given: Any) -> Entity:
    """An entity's row in `<kind>s` (with what is `given`) and its `<kind>_observations` row of the day."""
    ids = {f"{kind}_id": entity_id, "observed_at": observed_at}
    entity = Entity(kind, entity_id)
    entity.rows.append((f"{kind}s", TABLES[f"{kind}s"].row(payload, **ids, **given)))
    observation = TABLES[f"{kind}_observations"].row(payload, **ids, observed_date=observed_at.date())
    entity.rows.append((f"{kind}_observations", observation))
    return entity


def track(payload: Any, observed_at: datetime, requested_id: str | None = None) -> Entity | None:
    """A track object (whole or simplified) as rows of `tracks`, `track_observations`, `track_artists`."""
    payload = as_dict(payload)
    track_id, playable_id = track_ids(payload, requested_id)
    if track_id is None or payload.get("is_local") is True:
        return None
    album = ref("album", payload.get("album"))
    album_id = album.entity_id if album else None
    entity = _observed("track", track_id, payload, observed_at, playable_track_id=playable_id, album_id=album_id)
    entity.rows.extend(artist_credits("track", track_id, payload.get("artists"), entity.refs))
    if album:
        entity.refs.append(album)
    return entity


def artist_credits(kind: str, entity_id: str, artists: Any, refs: list[Ref]) -> Iterator[tuple[str, Row]]:
    """`track_artists` or `album_artists` rows of an artist list; credited artists go to `refs`."""
    for position, artist in enumerate(as_list(artists)):
        credited = ref("artist", artist)
        if credited is None:
            continue
        refs.append(credited)
        yield credit(kind, entity_id, position, credited.entity_id)


def credit(kind: str, entity_id: str, position: int, artist_id: str) -> tuple[str, Row]:
    """One `track_artists` or `album_artists` row."""
    table = f"{kind}_artists"
    return table, TABLES[table].row(**{f"{kind}_id": entity_id}, artist_position=position, artist_id=artist_id)


def album(payload: Any, observed_at: datetime) -> Entity | None:
    """An album object as rows of `albums`, `album_observations`, `album_artists`."""
    payload = as_dict(payload)
    album_id = spotify_id(payload.get("id"))
    if album_id is None:
        return None
    entity = _observed("album", album_id, payload, observed_at, image_url=largest_image(payload.get("images")))
    entity.rows.extend(artist_credits("album", album_id, payload.get("artists"), entity.refs))
    return entity


def artist(payload: Any, observed_at: datetime) -> Entity | None:
    """An artist object as rows of `artists` and `artist_observations`."""
    payload = as_dict(payload)
    artist_id = spotify_id(payload.get("id"))
    if artist_id is None:
        return None
    return _observed("artist", artist_id, payload, observed_at, image_url=largest_image(payload.get("images")))


def unavailable(reference: Ref, reason: str, status: int | None, observed_at: datetime) -> list[tuple[str, Row]]:
    """Rows for an entity Spotify would not serve, from what the answers that mentioned it carried.

    The dimension keeps a row for it (an inferred member), so what references it still joins.
    """
    row = TABLES["unavailable_entities"].row(
        entity_type=reference.kind,
        entity_id=reference.entity_id,
        observed_date=observed_at.date(),
        name=reference.name,
        album_id=reference.album.entity_id if reference.album else None,
        reason=reason,
        status=status,
        observed_at=observed_at,
    )
    rows: list[tuple[str, Row]] = [("unavailable_entities", row)]
    if reference.kind in ("track", "album"):
        rows.extend(
            credit(reference.kind, reference.entity_id, i, a.entity_id) for i, a in enumerate(reference.artists)
        )
    return rows


# playlists ----------------------------------------------------------------------------------


def playlist(payload: Any, playlist_id: str, observed_at: datetime) -> tuple[Row, dict[str, Any], bool]:
    """A playlist's `playlists` row, its first page of entries, and whether the entries are readable.

    A development-mode app gets metadata only (no page of entries at all) for playlists it
    neither owns nor collaborates on.
    """
    payload = as_dict(payload)
    first_page = container(payload)
    readable = "items" in first_page
    row = TABLES["playlists"].row(
        payload,
        playlist_id=playlist_id,
        total_items=_int(first_page.get("total")),
        are_items_readable=readable,
        observed_at=observed_at,
    )
    return row, first_page, readable


def playlist_entry(
    entry: dict[str, Any], playlist_id: str, position: int, observed_at: datetime
) -> tuple[Row, dict[str, Any] | None]:
    """A `playlist_items` row, and the track object when the entry holds a catalog track."""
    item = entry.get("item") if isinstance(entry.get("item"), dict) else entry.get("track")
    item = item if isinstance(item, dict) else None
    item_type = "missing"
    if item is not None:
        is_local = entry.get("is_local") is True or item.get("is_local") is True
        item_type = "local" if is_local else (_text(item.get("type")) or "track")
    track_id = track_ids(item)[0] if item is not None and item_type == "track" else None
    row = TABLES["playlist_items"].row(
        entry,
        playlist_id=playlist_id,
        snapshot_date=observed_at.date(),
        position=position,
        item_type=item_type,
        track_id=track_id,
        episode_id=spotify_id(item.get("id")) if item is not None and item_type == "episode" else None,
        item_name=_text(item.get("name")) if item is not None else None,
        observed_at=observed_at,
    )
    return row, item if track_id else None


def user_playlist(payload: dict[str, Any], observed_at: datetime) -> Row | None:
    """A `user_playlists` row; None for a list without an id (the legacy "Starred" list)."""
    playlist_id = spotify_id(payload.get("id"))
    if playlist_id is None:
        return None
    total = _int(container(payload).get("total"))
    return TABLES["user_playlists"].row(payload, playlist_id=playlist_id, total_items=total, observed_at=observed_at)


# the user -----------------------------------------------------------------------------------


def play(payload: dict[str, Any]) -> tuple[Row, dict[str, Any]] | None:
    """A `plays` row and the track played; None without a readable `played_at` or track id."""
    track_payload = as_dict(payload.get("track"))
    row = TABLES["plays"].row(payload, track_id=track_ids(track_payload)[0])
    if row["played_at"] is None or row["track_id"] is None:
        return None
    return row, track_payload


def saved(payload: dict[str, Any], kind: str, observed_at: datetime) -> tuple[Row, dict[str, Any]] | None:
    """A `saved_tracks` or `saved_albums` row and the saved entity; None without its id."""
    entity = as_dict(payload.get(kind))
    entity_id = track_ids(entity)[0] if kind == "track" else spotify_id(entity.get("id"))
    if entity_id is None:
        return None
    return TABLES[f"saved_{kind}s"].row(payload, **{f"{kind}_id": entity_id}, observed_at=observed_at), entity


def ranked(
    table: str, key: dict[str, Any], items: Any, kind: str, observed_at: datetime
) -> Iterator[tuple[Row, dict[str, Any]]]:
    """Rows of a ranked list (`search_results`, `user_top_items`): rank is the position Spotify gave.

    A null entry keeps its rank (the others do not move up) and gives no row.
    """
    for rank, item in enumerate(as_list(items), start=1):
        if not isinstance(item, dict):
            continue
        entity_id = track_ids(item)[0] if kind == "track" else spotify_id(item.get("id"))
        if entity_id is None:
            continue
        yield (
            TABLES[table].row(
                **key, observed_date=observed_at.date(), rank=rank, entity_id=entity_id, observed_at=observed_at
            ),
            item,
        )


def artist_album(payload: dict[str, Any], artist_id: str, observed_at: datetime) -> Row | None:
    album_id = spotify_id(payload.get("id"))
    if album_id is None:
        return None
    return TABLES["artist_albums"].row(payload, artist_id=artist_id, album_id=album_id, observed_at=observed_at)


def followed(artist_id: str, observed_at: datetime) -> Row:
    """A `followed_artists` row."""
    return TABLES["followed_artists"].row(artist_id=artist_id, observed_at=observed_at)
