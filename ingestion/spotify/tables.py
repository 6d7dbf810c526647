"""The raw tables, declared once: columns, types, keys, descriptions and where each value comes from.

Everything else is derived from `DECLARED`: the dlt column hints of the loader and of the
warehouse load (`TABLES`), the rows `answers` builds from Spotify's answers (`Table.row`), the
dbt sources YAML (`sources_yaml`, written by `make sources` and checked by a test) and the
benchmark generator's columns. Adding a raw column is one `Column` here, plus its staging model.

Every column is nullable: the 2026 API drops fields by tier, and a field a tier withholds is a
null column, never a missing one. Every table is flat (no nested lists), so every engine reads
it without JSON functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import yaml

SOURCE = "spotify"
SOURCES_YAML = "dbt_project/models/staging/spotify/_spotify__sources.yml"


def doc(name: str) -> str:
    """A description kept in a dbt `{% docs %}` block (`_spotify__docs.md`)."""
    return f'{{{{ doc("{name}") }}}}'


@dataclass(frozen=True)
class Column:
    """One raw column.

    Args:
        name: Column name.
        data_type: dlt data type: `text`, `bigint`, `bool`, `date` or `timestamp`.
        description: What it holds (shown in dbt docs).
        path: Where the value is in the answer (`external_ids.isrc`); values no path reaches are
            given by the caller of `Table.row` (ids resolved across answers, observation times).
    """

    name: str
    data_type: str
    description: str
    path: str | None = None

    def read(self, payload: Any) -> Any:
        """The value at `path`, if it has this column's type; None otherwise."""
        value = payload
        for step in (self.path or "").split("."):
            value = value.get(step) if isinstance(value, dict) else None
        return _typed(value, self.data_type)


def _typed(value: Any, data_type: str) -> Any:
    if data_type == "text":
        return value if isinstance(value, str) else None
    if data_type == "bigint":
        return value if isinstance(value, int) and not isinstance(value, bool) else None
    if data_type == "bool":
        return value if isinstance(value, bool) else None
    if data_type == "timestamp" and isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    return None


@dataclass(frozen=True)
class Table:
    """One raw table.

    Args:
        name: Table name (the same in the raw zone and the warehouse).
        description: What a row is.
        primary_key: The columns that identify a row (merge key in the warehouse).
        columns: Every column, in order.
        loaded_at_field: The column `dbt source freshness` reads; None where freshness means nothing.
    """

    name: str
    description: str
    primary_key: tuple[str, ...]
    columns: tuple[Column, ...]
    loaded_at_field: str | None = "observed_at"

    def hints(self) -> dict[str, Any]:
        """The table's hints for dlt: the primary key and every column, nullable."""
        return {
            "primary_key": list(self.primary_key),
            "columns": {c.name: {"data_type": c.data_type, "nullable": True} for c in self.columns},
        }

    def row(self, payload: Any = None, **given: Any) -> dict[str, Any]:
        """A row: each column `given` by the caller, else read from `payload` at its path, else null."""
        unknown = set(given) - {c.name for c in self.columns}
        if unknown:
            raise KeyError(f"{self.name} has no column {sorted(unknown)}")
        return {
            c.name: given[c.name] if c.name in given else (c.read(payload) if c.path else None) for c in self.columns
        }


def key(kind: str, note: str = "") -> Column:
    """The id column of an entity kind (`track_id`, ...), given by whoever builds the row."""
    return Column(f"{kind}_id", "text", doc(f"{kind}_id") + note)


OBSERVED_DATE = Column("observed_date", "date", doc("observed_date"))
OBSERVED_AT = Column("observed_at", "timestamp", doc("observed_at"))
POPULARITY = Column("popularity", "bigint", doc("popularity"), "popularity")
FOLLOWERS = Column("followers", "bigint", doc("followers"), "followers.total")
IMAGE_URL = Column("image_url", "text", doc("image_url"))
PLAYABILITY = (
    Column("is_playable", "bool", doc("is_playable"), "is_playable"),
    Column("restriction_reason", "text", doc("restriction_reason"), "restrictions.reason"),
)
PLAYLIST = (
    Column("name", "text", "Playlist name.", "name"),
    Column("owner_id", "text", "Spotify user id of the owner.", "owner.id"),
    Column("is_public", "bool", "Whether the playlist is public.", "public"),
    Column("is_collaborative", "bool", "Whether the playlist is collaborative.", "collaborative"),
    Column("total_items", "bigint", "Number of items in the playlist."),
)


def entity_table(kind: str, description: str, *attributes: Column, name: str = "") -> Table:
    """One row per id of an entity kind (`tracks`, ...): its latest attributes and when they were seen."""
    return Table(name or f"{kind}s", description, (f"{kind}_id",), (key(kind), *attributes, OBSERVED_AT))


def credits_table(kind: str) -> Table:
    """`track_artists` or `album_artists`: an entity's credited artists, in credit order."""
    return Table(
        f"{kind}_artists",
        f"Credited artists of each {kind}, in credit order.",
        (f"{kind}_id", "artist_position"),
        (key(kind), Column("artist_position", "bigint", doc("artist_position")), key("artist")),
        loaded_at_field=None,
    )


def observations_table(kind: str, *measures: Column) -> Table:
    """One observation of an entity per UTC day: its popularity and `measures`."""
    return Table(
        f"{kind}_observations",
        f"One observation per {kind} per UTC day.",
        (f"{kind}_id", "observed_date"),
        (key(kind), OBSERVED_DATE, POPULARITY, *measures, OBSERVED_AT),
    )


def ranked_table(name: str, description: str, list_key: tuple[Column, Column], rank: str) -> Table:
    """A ranked list Spotify gives (search results, top items), one row per rank per UTC day."""
    return Table(
        name,
        description,
        (list_key[0].name, list_key[1].name, "observed_date", "rank"),
        (
            *list_key,
            OBSERVED_DATE,
            Column("rank", "bigint", rank),
            Column("entity_id", "text", doc("entity_id")),
            OBSERVED_AT,
        ),
    )


def library_table(kind: str) -> Table:
    """`saved_tracks` or `saved_albums`: what the user saved, and when."""
    return Table(
        f"saved_{kind}s",
        f"{kind.capitalize()}s in the user's library.",
        (f"{kind}_id",),
        (key(kind), Column("saved_at", "timestamp", "When the user saved it (UTC).", "added_at"), OBSERVED_AT),
    )


# What the crawler loads from the Web API, once a UTC day or once a run.
API: tuple[Table, ...] = (
    entity_table(
        "track",
        "Latest attributes of every track the loader reached.",
        Column("playable_track_id", "text", doc("playable_track_id")),
        Column("name", "text", 'Track title; empty for a "ghost" track Spotify no longer serves.', "name"),
        key("album", " Null when Spotify sent the track without its album."),
        Column("duration_ms", "bigint", "Duration in milliseconds.", "duration_ms"),
        Column("is_explicit", "bool", "Whether the track has explicit lyrics.", "explicit"),
        Column("isrc", "text", "International Standard Recording Code.", "external_ids.isrc"),
        Column("disc_number", "bigint", "Disc number on the album.", "disc_number"),
        Column("track_number", "bigint", "Position on its disc.", "track_number"),
        POPULARITY,
        Column("preview_url", "text", "A 30-second MP3 preview; deprecated by Spotify, often null.", "preview_url"),
        *PLAYABILITY,
    ),
    credits_table("track"),
    entity_table(
        "album",
        "Latest attributes of every album the loader reached.",
        Column("name", "text", "Album title.", "name"),
        Column("album_type", "text", "`album`, `single` or `compilation`.", "album_type"),
        Column(
            "release_date",
            "text",
            'Release date as Spotify gives it (YYYY, YYYY-MM or YYYY-MM-DD; "0000" when unknown).',
            "release_date",
        ),
        Column("release_date_precision", "text", doc("release_date_precision"), "release_date_precision"),
        Column("total_tracks", "bigint", "Number of tracks on the album.", "total_tracks"),
        Column("upc", "text", "Universal Product Code.", "external_ids.upc"),
        Column("label", "text", "Record label; withheld from development-mode apps.", "label"),
        POPULARITY,
        IMAGE_URL,
        *PLAYABILITY,
    ),
    credits_table("album"),
    entity_table(
        "artist",
        "Latest attributes of every artist the loader reached.",
        Column("name", "text", "Artist name.", "name"),
        POPULARITY,
        FOLLOWERS,
        IMAGE_URL,
    ),
    Table(
        "artist_albums",
        "Discographies of the tracked artists.",
        ("artist_id", "album_id"),
        (
            key("artist"),
            key("album"),
            Column(
                "album_group",
                "text",
                "Relation of the album to the artist; withheld from development-mode apps.",
                "album_group",
            ),
            OBSERVED_AT,
        ),
    ),
    entity_table(
        "playlist",
        "Latest metadata of the tracked playlists.",
        *PLAYLIST,
        Column("description", "text", "Playlist description.", "description"),
        Column("owner_name", "text", "Display name of the owner.", "owner.display_name"),
        Column("snapshot_id", "text", "Spotify's version id of the playlist contents.", "snapshot_id"),
        FOLLOWERS,
        Column(
            "are_items_readable",
            "bool",
            "Whether this app may read the items (development mode allows owned and collaborative playlists only).",
        ),
    ),
    Table(
        "playlist_items",
        "Daily snapshots of tracked playlists, one row per position per day.",
        ("playlist_id", "snapshot_date", "position"),
        (
            key("playlist"),
            Column("snapshot_date", "date", "UTC day of the snapshot."),
            Column("position", "bigint", "Zero-based position in the playlist."),
            Column(
                "item_type", "text", "`track`, `episode`, `local` (a local file, no id) or `missing` (a removed track)."
            ),
            key("track", " Null unless item_type is track."),
            Column("episode_id", "text", "Spotify id of the podcast episode; null unless item_type is episode."),
            Column("item_name", "text", "Name of the item as the playlist shows it."),
            Column(
                "added_at",
                "timestamp",
                "When the item was added to the playlist (UTC), as Spotify sent it "
                "(editorial playlists send 1970-01-01).",
                "added_at",
            ),
            Column("added_by_id", "text", "Spotify user id of whoever added it.", "added_by.id"),
            OBSERVED_AT,
        ),
    ),
    observations_table("track"),
    observations_table("album"),
    observations_table("artist", FOLLOWERS),
    ranked_table(
        "search_results",
        "The ranked results of each tracked search query, one row per rank per UTC day.",
        (
            Column("query", "text", "The tracked search query."),
            Column("result_type", "text", "`track`, `artist` or `album`."),
        ),
        "One-based position in the results.",
    ),
    Table(
        "plays",
        "The user's plays from recently played, each once however many polls saw it.",
        ("played_at",),
        (
            Column("played_at", "timestamp", doc("played_at"), "played_at"),
            key("track"),
            Column(
                "context_type",
                "text",
                "Where it was played from: `playlist`, `album`, `artist`, or null.",
                "context.type",
            ),
            Column("context_uri", "text", "Spotify URI of that context.", "context.uri"),
        ),
        loaded_at_field="played_at",
    ),
    ranked_table(
        "user_top_items",
        "The user's top tracks and artists per time range, one row per rank per UTC day.",
        (Column("item_type", "text", "`track` or `artist`."), Column("time_range", "text", doc("time_range"))),
        "One-based rank in the user's top list.",
    ),
    library_table("track"),
    library_table("album"),
    entity_table("artist", "Artists the user follows.", name="followed_artists"),
    entity_table("playlist", "The user's own and followed playlists.", *PLAYLIST, name="user_playlists"),
    Table(
        "unavailable_entities",
        doc("unavailable_entities"),
        ("entity_type", "entity_id", "observed_date"),
        (
            Column("entity_type", "text", "`track`, `album` or `artist`."),
            Column("entity_id", "text", doc("entity_id")),
            OBSERVED_DATE,
            Column("name", "text", "The name an answer that mentioned it carried."),
            Column("album_id", "text", "For a track: its album's id, as the mentioning answer carried it."),
            Column("reason", "text", "What Spotify answered (status and message), or why the answer did not count."),
            Column("status", "bigint", "The HTTP status of that answer; null for a null in a batch answer."),
            OBSERVED_AT,
        ),
        # Empty while Spotify serves everything asked for: not a feed that goes stale.
        loaded_at_field=None,
    ),
)

# What `tunelake import-history` loads from Spotify's privacy export (ingestion/history).


def export_table(name: str, ended: str, ms_played_path: str, item_types: str, *columns: Column) -> Table:
    """A table of the privacy export, its rows keyed and traced the same way.

    A play is known by when it ended, what played and for how long: the same play in two
    exports, or twice in one, is one row in the warehouse. Each row says which file and position
    it came from.
    """
    return Table(
        name,
        doc(name),
        ("ended_at", "item_key", "ms_played"),
        (
            Column("ended_at", "timestamp", ended),
            Column("ms_played", "bigint", "Milliseconds actually played.", ms_played_path),
            Column("item_type", "text", item_types),
            Column("item_key", "text", doc("history_item_key")),
            *columns,
            Column("source_file", "text", "The export file the row came from (its path inside the zip)."),
            Column("source_position", "bigint", "Zero-based position of the row in that file."),
            Column("imported_at", "timestamp", "When `tunelake import-history` read it (UTC)."),
        ),
        # Loaded when a person imports an export: not a feed that goes stale.
        loaded_at_field=None,
    )


EXPORT: tuple[Table, ...] = (
    export_table(
        "history_streams",
        "When the stream ended (UTC, to the second): the export's `ts`.",
        "ms_played",
        "`track`, `episode`, `audiobook`, or `unknown` when nothing says.",
        key("track", " From `spotify_track_uri`."),
        Column(
            "track_name",
            "text",
            "Track name; null for podcasts, some removed tracks.",
            "master_metadata_track_name",
        ),
        Column(
            "album_artist_name",
            "text",
            "The album's artist, not necessarily the track's.",
            "master_metadata_album_artist_name",
        ),
        Column("album_name", "text", "Album name.", "master_metadata_album_album_name"),
        Column("episode_id", "text", "Spotify id of the podcast episode, from `spotify_episode_uri`."),
        Column("episode_name", "text", "Podcast episode name.", "episode_name"),
        Column("show_name", "text", "Podcast show name.", "episode_show_name"),
        Column("audiobook_uri", "text", "Spotify URI of the audiobook (exports from 2024 on).", "audiobook_uri"),
        Column("audiobook_title", "text", "Audiobook title.", "audiobook_title"),
        Column("audiobook_chapter_uri", "text", "Spotify URI of the chapter.", "audiobook_chapter_uri"),
        Column("audiobook_chapter_title", "text", "Chapter title.", "audiobook_chapter_title"),
        # How it played: the export's own field names.
        *(
            Column(name, data_type, description, name)
            for name, data_type, description in (
                ("platform", "text", doc("history_platform")),
                ("conn_country", "text", "ISO 3166-1 alpha-2 country of the connection."),
                ("reason_start", "text", "Why the stream started (`trackdone`, `clickrow`, ...)."),
                ("reason_end", "text", "Why it ended (`trackdone`, `fwdbtn`, `endplay`, ...)."),
            )
        ),
        Column("is_shuffle", "bool", "Whether shuffle was on.", "shuffle"),
        Column(
            "is_skipped",
            "bool",
            "The export's `skipped`: unreliable (all false for years in some accounts).",
            "skipped",
        ),
        Column("is_offline", "bool", "Whether it played offline.", "offline"),
        Column(
            "offline_timestamp",
            "bigint",
            "When offline play began: epoch seconds or milliseconds, depending on the export.",
            "offline_timestamp",
        ),
        Column("is_incognito", "bool", "Whether a private session was on.", "incognito_mode"),
    ),
    export_table(
        "history_account_plays",
        "When the play ended (UTC, to the minute): the export's `endTime`.",
        "msPlayed",
        "`track` or `episode`.",
        Column("artist_name", "text", "Artist name (music files).", "artistName"),
        Column("track_name", "text", "Track name (music files).", "trackName"),
        Column("show_name", "text", "Podcast name (podcast files).", "podcastName"),
        Column("episode_name", "text", "Episode name (podcast files).", "episodeName"),
    ),
)
DECLARED: tuple[Table, ...] = API + EXPORT

BY_NAME: dict[str, Table] = {table.name: table for table in DECLARED}
# dlt's hints per table, for the resources of the loader and of the warehouse load.
TABLES: dict[str, dict[str, Any]] = {table.name: table.hints() for table in DECLARED}


def sources_yaml() -> str:
    """The dbt sources YAML of the raw tables (`SOURCES_YAML`), generated from `DECLARED`."""
    tables = []
    for table in DECLARED:
        entry: dict[str, Any] = {"name": table.name, "description": table.description}
        if table.loaded_at_field is None:
            entry["config"] = {"freshness": None}  # nothing here says when a row arrived
        elif table.loaded_at_field != OBSERVED_AT.name:
            entry["config"] = {"loaded_at_field": table.loaded_at_field}
        columns = []
        for column in table.columns:
            described: dict[str, Any] = {"name": column.name, "description": column.description}
            if table.primary_key == (column.name,):
                described["data_tests"] = ["unique", "not_null"]
            columns.append(described)
        entry["columns"] = columns
        tables.append(entry)
    document = {
        "version": 2,
        "sources": [
            {
                "name": SOURCE,
                "description": doc("spotify_source"),
                "schema": "{{ env_var('TUNELAKE_RAW_SCHEMA', 'spotify') }}",
                "config": {
                    "freshness": {
                        "warn_after": {"count": 2, "period": "day"},
                        "error_after": {"count": 7, "period": "day"},
                    },
                    "loaded_at_field": OBSERVED_AT.name,
                },
                "tables": tables,
            }
        ],
    }
    header = "# Generated from ingestion/spotify/tables.py by `make sources`: edit the declaration, not this file.\n"
    return header + yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=120)
