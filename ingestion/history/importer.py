"""`tunelake import-history`: export files into the raw zone and the warehouse, with a report per file."""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import dlt
import ijson
from dlt.common.destination.exceptions import DestinationException
from dlt.common.utils import chunks
from dlt.destinations.exceptions import DatabaseUndefinedRelation
from dlt.extract import DltResource

from ingestion import preflight, run_lock
from ingestion.config import Settings
from ingestion.history.files import ExportFile, export_files
from ingestion.history.formats import Format, RowError, detect, row
from ingestion.pipeline import (
    DATASET,
    RunSummary,
    data_row_counts,
    load_warehouse,
    raw_pipeline,
    restore_raw,
    run_raw,
    warehouse_pipeline,
)
from ingestion.spotify import tables

logger = logging.getLogger(__name__)

# Bytes looked at to tell a JSON array from anything else.
PEEK = 64
# Rows handed to dlt at once: dlt's own write buffer holds as many.
BATCH_ROWS = 5000


@dataclass
class FileReport:
    """What became of one file."""

    name: str
    format: Format | None = None
    read: int = 0
    kept: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    # The first row (zero-based position in the file) each reason was given for.
    first_rejected: dict[str, int] = field(default_factory=dict)
    # Null entries in the file's list: nothing to keep, counted apart.
    nulls: int = 0
    # Why the file, or its rest, was not read: the rows before it are kept.
    error: str | None = None
    # Account-data music rows (names only) that match no track known to the warehouse by name and
    # artist, as fct_listens resolves them; None where the warehouse's tracks could not be read.
    unresolved: int | None = 0

    def format_line(self) -> str:
        what = self.format.value if self.format else "not read"
        line = f"  {self.name}: {what}, {self.read:,} rows read, {self.kept:,} kept"
        if self.nulls:
            line += f", {self.nulls:,} null entries skipped"
        if self.rejected:
            line += f", {sum(self.rejected.values()):,} rejected"
        if self.format is Format.ACCOUNT_MUSIC:
            line += ", unresolved unknown" if self.unresolved is None else f", {self.unresolved:,} unresolved"
        lines = [line]
        lines += [
            f"      rejected {count:,} (first at row {self.first_rejected[reason]:,}): {reason}"
            for reason, count in self.rejected.most_common(5)
        ]
        if self.error:
            lines.append(f"      {self.error}")
        return "\n".join(lines)


@dataclass
class ImportSummary:
    """What an import did, for people (`format`) and for machines (the fields)."""

    files: list[FileReport] = field(default_factory=list)
    # Rows each history table gained in the warehouse; the rest of what was kept was there already.
    # None where the warehouse could not be counted.
    new_rows: dict[str, int] | None = None
    raw_rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def kept(self) -> int:
        return sum(f.kept for f in self.files)

    @property
    def duplicates(self) -> int | None:
        return None if self.new_rows is None else self.kept - sum(self.new_rows.values())

    @property
    def unresolved(self) -> int | None:
        counts = [f.unresolved for f in self.files if f.format is Format.ACCOUNT_MUSIC]
        return None if None in counts else sum(c or 0 for c in counts)

    @property
    def complete(self) -> bool:
        """Whether every file was read whole and every row kept."""
        return all(f.error is None and not f.rejected for f in self.files)

    def format(self) -> str:
        lines = [f"Import finished in {self.seconds:.1f} s. Files:"]
        lines += [f.format_line() for f in self.files] or ["  (no listening history found)"]
        rejected = sum(sum(f.rejected.values()) for f in self.files)
        read = f"In all: {sum(f.read for f in self.files):,} rows read, {self.kept:,} kept, {rejected:,} rejected"
        if any(f.format is Format.ACCOUNT_MUSIC for f in self.files):
            read += (
                ", unresolved unknown (the warehouse's tracks could not be read)"
                if self.unresolved is None
                else f", {self.unresolved:,} unresolved (account-data plays whose name and artist match no known track)"
            )
        if self.new_rows is None:
            lines.append(f"{read}; the warehouse merged them on each play's key (its new rows were not counted).")
            return "\n".join(lines)
        lines.append(
            f"{read}; {sum(self.new_rows.values()):,} new in the warehouse, {self.duplicates:,} already there "
            "(the same stream in another file, export or import)."
        )
        lines += [f"  {count:>9,}  {table}" for table, count in sorted(self.new_rows.items())]
        return "\n".join(lines)


def import_history(
    settings_: Settings, paths: Iterable[str | Path], on_row: Callable[[int], object] | None = None
) -> ImportSummary:
    """Import the export files under `paths` into the raw zone, then bring the warehouse up to date.

    Raises:
        ExportInputError: for a path that does not exist or a zip that is refused (nothing imported).
        RunInProgressError: when another run holds the raw zone's lock (nothing imported).
    """
    started = time.monotonic()
    files = export_files(paths)
    summary = ImportSummary(files=[FileReport(f.name) for f in files])
    with run_lock.hold(settings_.raw_zone_url, "import-history"):
        raw = raw_pipeline(settings_)
        preflight.check(raw, settings_)
        restore_raw(raw, settings_.raw_zone_url)
        source = privacy_export(
            files, summary.files, datetime.now(UTC), on_row or (lambda _: None), lambda: _known_tracks(settings_)
        )
        run_raw(raw, settings_.raw_zone_url, source)
        summary.raw_rows = data_row_counts(raw)
        before = _history_counts(settings_)
        load_warehouse(settings_, RunSummary())
        after = _history_counts(settings_)
    if before is not None and after is not None:
        summary.new_rows = {table: after[table] - before[table] for table in after}
    summary.seconds = time.monotonic() - started
    return summary


@dlt.source(name=DATASET, max_table_nesting=0)
def privacy_export(
    files: list[ExportFile],
    reports: list[FileReport],
    imported_at: datetime,
    on_row: Callable[[int], object],
    known_tracks: Callable[[], set[tuple[str, str]] | None] = lambda: None,
) -> list[DltResource]:
    """One append resource per history table, each reading the files of its format once.

    `known_tracks()` gives the `track_key` of every track the warehouse knows (None: it could not be
    read), against which account-data music rows are counted unresolved. It is asked only when there
    are such rows: an extended history alone never reads the catalog.
    """
    formats = [_format_of(f, report) for f, report in zip(files, reports, strict=True)]
    known = known_tracks() if Format.ACCOUNT_MUSIC in formats else None

    def rows(wanted: set[Format]) -> Iterator[Sequence[dict[str, Any]]]:
        # Lists of rows, not single rows: dlt's extract costs about as much per item as per list.
        for file, report, fmt in zip(files, reports, formats, strict=True):
            if fmt in wanted:
                yield from chunks(_rows(file, report, fmt, imported_at, on_row, known), BATCH_ROWS)

    by_table: dict[str, set[Format]] = {}
    for fmt in Format:
        by_table.setdefault(fmt.table, set()).add(fmt)
    return [
        dlt.resource(rows(wanted), name=table, write_disposition="append", **tables.BY_NAME[table].hints())
        for table, wanted in by_table.items()
    ]


def _format_of(file: ExportFile, report: FileReport) -> Format | None:
    """The file's format from its first object; the report says why when it has none."""
    try:
        with file.open() as stream:
            if not _is_array(stream):
                report.error = "skipped whole: not a JSON array (an export file is a list of streams)"
                return None
            first = next(ijson.items(stream, "item", use_float=True), None)
    except (ijson.JSONError, ijson.IncompleteJSONError, UnicodeDecodeError, OSError) as error:
        report.error = f"skipped whole: not readable JSON ({_short(error)})"
        return None
    if first is None:
        report.format = None
        return None
    report.format = detect(first)
    if report.format is None:
        keys = sorted(first)[:8] if isinstance(first, dict) else type(first).__name__
        report.error = f"skipped whole: neither export format (its first object has {keys})"
    return report.format


def _is_array(stream: IO[bytes]) -> bool:
    """Whether the stream holds a JSON array (a BOM and spaces before it allowed); it is rewound."""
    head = stream.read(PEEK).lstrip(b"\xef\xbb\xbf \t\r\n")
    stream.seek(0)
    return head[:1] == b"["


def _rows(
    file: ExportFile,
    report: FileReport,
    fmt: Format,
    imported_at: datetime,
    on_row: Callable[[int], object],
    known: set[tuple[str, str]] | None,
) -> Iterator[dict[str, Any]]:
    """The file's rows without their nulls; a bad row is counted and skipped, a break in the JSON ends the file.

    Music rows of the account data are counted unresolved when no `known` track matches them.
    dlt leaves nulls out of the raw zone's JSON lines anyway: rows without them normalize faster.
    """
    position = -1
    if fmt is Format.ACCOUNT_MUSIC and known is None:
        report.unresolved = None
    try:
        with file.open() as stream:
            for position, obj in enumerate(ijson.items(stream, "item", use_float=True)):
                report.read += 1
                on_row(1)
                if obj is None:
                    report.nulls += 1
                    continue
                try:
                    built = row(fmt, obj, source_file=file.name, source_position=position, imported_at=imported_at)
                except RowError as error:
                    report.rejected[str(error)] += 1
                    report.first_rejected.setdefault(str(error), position)
                    continue
                report.kept += 1
                if fmt is Format.ACCOUNT_MUSIC and known is not None and report.unresolved is not None:
                    report.unresolved += track_key(built["track_name"], built["artist_name"]) not in known
                yield {column: value for column, value in built.items() if value is not None}
    except (ijson.JSONError, ijson.IncompleteJSONError, UnicodeDecodeError, OSError) as error:
        report.error = (
            f"cut short after row {position + 1:,} ({_short(error)}): the rows before it are kept, the rest of "
            "the file is not read"
        )


def _short(error: Exception) -> str:
    return str(error).splitlines()[0][:160] if str(error) else type(error).__name__


def track_key(name: str | None, artist: str | None) -> tuple[str, str] | None:
    """How fct_listens matches a play without an id to a track: lower-cased name and primary artist."""
    return None if name is None or artist is None else (name.lower(), artist.lower())


def _known_tracks(settings_: Settings) -> set[tuple[str, str]] | None:
    """The `track_key` of every track the warehouse knows, as fct_listens reads them (ghosts left out).

    The raw tables, not dim_tracks: an import runs before dbt and needs no build. An artist never
    fetched is named by its id, as in the marts. Empty before the first load; None where the
    warehouse cannot be queried through dlt's SQL client (as `_history_counts`).
    """
    pipeline = warehouse_pipeline(settings_)
    try:
        with pipeline.sql_client() as client:
            tracks, track_artists, artists = (
                client.make_qualified_table_name(name) for name in ("tracks", "track_artists", "artists")
            )
            # Declared tables' names, quoted by the destination: nothing from outside.
            found = client.execute_sql(
                f"select tracks.name, coalesce(artists.name, track_artists.artist_id) from {tracks} as tracks "  # noqa: S608
                f"inner join {track_artists} as track_artists on tracks.track_id = track_artists.track_id "
                f"and track_artists.artist_position = 0 left join {artists} as artists "
                "on track_artists.artist_id = artists.artist_id "
                "where coalesce(tracks.name, '') <> '' or coalesce(tracks.duration_ms, 0) <> 0"
            )
    except DatabaseUndefinedRelation:
        return set()
    except DestinationException as error:
        logger.info("the warehouse's tracks could not be read: %s", type(error).__name__)
        return None
    return {key for name, artist in found or [] if (key := track_key(name, artist))}


def _history_counts(settings_: Settings) -> dict[str, int] | None:
    """Rows of each history table in the warehouse (0 before the first import).

    None where the warehouse cannot be counted through dlt's SQL client (a filesystem warehouse,
    Trino's, whose client needs a DuckDB extension that cannot be downloaded offline).
    """
    pipeline = warehouse_pipeline(settings_)
    counts = {}
    for table in sorted({fmt.table for fmt in Format}):
        try:
            with pipeline.sql_client() as client:
                name = client.make_qualified_table_name(table)
                # A declared table's name, quoted by the destination: nothing from outside.
                (found,) = client.execute_sql(f"select count(*) from {name}") or [(0,)]  # noqa: S608
                counts[table] = int(found[0])
        except DatabaseUndefinedRelation:
            counts[table] = 0
        except DestinationException as error:
            logger.info("the warehouse's history tables could not be counted: %s", type(error).__name__)
            return None
    return counts
