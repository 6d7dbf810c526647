"""The files of a privacy export: a zip as Spotify sends it, an unpacked folder, or single JSON files."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from ingestion.errors import ConfigurationError

# In a zip or a folder, the files that hold listening; the others (Userdata.json, Payments.json,
# playlists, ...) are not read. A file named on the command line is read whatever its name: its
# content says what it is (formats.detect).
HISTORY_NAME = re.compile(r"(streaming_?history|endsong)[^/]*\.json$", re.IGNORECASE)
# JSON compresses about 10 to 15 times; a member that claims far more is a zip bomb, not an export.
MAX_EXPANSION = 100
MAX_UNPACKED_BYTES = 4 * 1024**3


class ExportInputError(ConfigurationError):
    """A path that cannot be an export (missing, or a refused zip); nothing was imported."""


@dataclass(frozen=True)
class ExportFile:
    """One JSON file of an export, wherever it lies.

    Args:
        name: How summaries and the `source_file` column name it (`export.zip:folder/file.json`).
        size: Its size in bytes, unpacked.
        open: Opens it for binary reading, as a context manager.
    """

    name: str
    size: int
    open: Callable[[], AbstractContextManager[IO[bytes]]]


def export_files(paths: Iterable[str | Path]) -> list[ExportFile]:
    """The export files the paths hold, in a stable order.

    Raises:
        ExportInputError: naming the path that does not exist or the zip that is refused.
    """
    found: list[ExportFile] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            found.extend(_file(f, str(f)) for f in sorted(path.rglob("*")) if f.is_file() and _is_history(f.name))
        elif zipfile.is_zipfile(path):
            found.extend(_members(path))
        elif path.is_file():
            found.append(_file(path, str(path)))
        else:
            raise ExportInputError(f"{given}: no such file or folder")
    return found


def _is_history(name: str) -> bool:
    return bool(HISTORY_NAME.search(name)) and "__MACOSX" not in name


def _file(path: Path, name: str) -> ExportFile:
    return ExportFile(name, path.stat().st_size, lambda: path.open("rb"))


def _members(path: Path) -> list[ExportFile]:
    with zipfile.ZipFile(path) as archive:
        members = [m for m in archive.infolist() if not m.is_dir() and _is_history(m.filename)]
    packed = path.stat().st_size
    unpacked = sum(m.file_size for m in members)
    if unpacked > MAX_UNPACKED_BYTES or unpacked > MAX_EXPANSION * max(packed, 1):
        raise ExportInputError(
            f"{path}: refused, its history files would unpack to {unpacked:,} bytes from a {packed:,}-byte zip "
            f"(an export unpacks to about 10 times its size; the limit is {MAX_EXPANSION} times, "
            f"{MAX_UNPACKED_BYTES // 1024**3} GiB at most)"
        )

    def opener(member: zipfile.ZipInfo) -> Callable[[], AbstractContextManager[IO[bytes]]]:
        # zipfile stops at the size the member declares, so a lying header cannot unpack more.
        @contextmanager
        def open_member() -> Iterator[IO[bytes]]:
            with zipfile.ZipFile(path) as archive, archive.open(member) as stream:
                yield stream

        return open_member

    return [ExportFile(f"{path.name}:{m.filename}", m.file_size, opener(m)) for m in members]
