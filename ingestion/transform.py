"""Running the dbt project from Python (dbt's programmatic `dbtRunner`)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from dbt.cli.main import dbtRunner, dbtRunnerResult

if TYPE_CHECKING:
    from ingestion.config import Settings

REPO_ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
PROFILES_TEMPLATE = REPO_ROOT / "profiles.example.yml"
MARTS = (
    "dim_tracks",
    "dim_artists",
    "dim_albums",
    "dim_track_artists",
    "dim_album_artists",
    "dim_playlists",
    "fct_playlist_tracks",
    "fct_track_popularity_daily",
    "fct_artist_popularity_daily",
    "fct_album_popularity_daily",
    "fct_track_trends_daily",
    "fct_plays",
    "fct_listening_daily",
    "fct_listens",
    "fct_listens_daily",
    "fct_listens_hourly",
    "fct_listening_sessions",
    "fct_first_listens",
    "fct_listening_yearly_top",
    "fct_listening_yearly",
)


class DbtError(RuntimeError):
    """A dbt command did not succeed."""


def ensure_profile(project_dir: Path = DBT_PROJECT_DIR) -> Path:
    """The folder holding `profiles.yml`: the project's own copy, made from the template if absent."""
    profile = project_dir / "profiles.yml"
    if not profile.exists():
        shutil.copyfile(PROFILES_TEMPLATE, profile)
    return project_dir


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def run_dbt(
    args: Sequence[str],
    settings: Settings | None = None,
    duckdb_path: str | None = None,
    target: str | None = None,
    project_dir: Path = DBT_PROJECT_DIR,
) -> dbtRunnerResult:
    """Run one dbt command (`["build"]`, `["docs", "generate"]`) against the project.

    Args:
        args: The dbt command and its options.
        settings: tunelake's settings: their warehouse is the target, their DuckDB file the
            duckdb target's (what `tunelake dbt` and `tunelake run` pass).
        duckdb_path: Warehouse file for the duckdb target, instead of the settings'; made
            absolute, since dbt resolves relative paths from its working directory.
        target: Profile target (`duckdb`, `snowflake`, `athena`), instead of the settings'.
        project_dir: The dbt project.

    Returns:
        dbt's result (per-node results for build, run and test).

    Raises:
        DbtError: when the command fails.
    """
    environment = settings.dbt_environment() if settings else {}
    if duckdb_path:
        environment["TUNELAKE_DUCKDB_PATH"] = str(Path(duckdb_path).resolve())
    command = [*args, "--project-dir", str(project_dir), "--profiles-dir", str(ensure_profile(project_dir))]
    if target:
        command += ["--target", target]
    with _environment(environment):
        result = dbtRunner().invoke(command)
    if not result.success:
        raise DbtError(f"dbt {' '.join(args)} failed" + (f": {result.exception}" if result.exception else ""))
    return result
