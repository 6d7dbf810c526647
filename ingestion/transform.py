"""Running the dbt project from Python (dbt's programmatic `dbtRunner`)."""

from __future__ import annotations

import json
import os
import shutil
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dbt.cli.main import dbtRunner, dbtRunnerResult

if TYPE_CHECKING:
    from dbt.contracts.graph.manifest import Manifest
    from dbt_common.events.base_types import EventMsg

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
    *,
    target_path: Path | None = None,
    log_path: Path | None = None,
    profiles_dir: Path | None = None,
    on_event: Callable[[EventMsg], None] | None = None,
    manifest: Manifest | None = None,
) -> dbtRunnerResult:
    """Run one dbt command (`["build"]`, `["docs", "generate"]`) against the project.

    Commands run in this process. Several in a row share one parse of the project: pass them
    the manifest a `["parse"]` returns (its `result`), as `build` then `docs generate` do in
    the demo, and none of them reads or parses the project again.

    Args:
        args: The dbt command and its options.
        settings: tunelake's settings: their warehouse is the target, their DuckDB file the
            duckdb target's (what `tunelake dbt` and `tunelake run` pass).
        duckdb_path: Warehouse file for the duckdb target, instead of the settings'; made
            absolute, since dbt resolves relative paths from its working directory.
        target: Profile target (`duckdb`, `snowflake`, `athena`), instead of the settings'.
        project_dir: The dbt project.
        target_path: dbt's artifacts (manifest, run results, docs), instead of the project's
            `target/` (`DBT_TARGET_PATH`, which every dbt command reads, `docs serve` too).
        log_path: dbt's log folder, instead of the project's `logs/`.
        profiles_dir: The folder of `profiles.yml`, instead of the project's own copy.
        on_event: Called with each of dbt's structured events (`node_line` makes progress lines).
        manifest: The project as an earlier `parse` of it returned, instead of parsing it.

    Returns:
        dbt's result (per-node results for build, run and test).

    Raises:
        DbtError: when the command fails.
    """
    environment = settings.dbt_environment() if settings else {}
    if duckdb_path:
        environment["TUNELAKE_DUCKDB_PATH"] = str(Path(duckdb_path).resolve())
    if target_path:
        environment["DBT_TARGET_PATH"] = str(target_path.resolve())
    if log_path:
        environment["DBT_LOG_PATH"] = str(log_path.resolve())
    profiles = profiles_dir or ensure_profile(project_dir)
    command = [*args, "--project-dir", str(project_dir), "--profiles-dir", str(profiles)]
    if target:
        command += ["--target", target]
    with _environment(environment):
        result = dbtRunner(manifest=manifest, callbacks=[on_event] if on_event else []).invoke(command)
    if not result.success:
        raise DbtError(f"dbt {' '.join(args)} failed" + (f": {result.exception}" if result.exception else ""))
    return result


# dbt's events that close a node, with the index and total of the run's nodes.
_NODE_RESULTS = {"LogModelResult", "LogSeedResult", "LogSnapshotResult", "LogTestResult"}
_PASSED = {"success", "pass", "ok"}


def node_line(event: EventMsg) -> str | None:
    """A compact line per finished model, seed or snapshot, and per test that did not pass; else None.

    A build of the project runs some 200 nodes, most of them tests that pass in milliseconds: a
    line each would bury the few that warn or fail, and dbt's own log prints two per node.
    """
    name = event.info.name
    if name not in _NODE_RESULTS:
        return None
    data = event.data
    node = data.node_info
    status = str(data.status).lower()
    if name == "LogTestResult":
        if status in _PASSED:
            return None
        progress = f"[{data.index:>{len(str(data.num_models))}}/{data.num_models}]"
        failing = f"{data.num_failures} failing rows"
        return f"  {progress} {status.upper():<5} {node.resource_type} {node.node_name}: {failing}"
    progress = f"[{data.index:>{len(str(data.total))}}/{data.total}]"
    schema = node.node_relation.schema
    return (
        f"  {progress} {status.upper():<5} {schema + '.' if schema else ''}{node.node_name} "
        f"({node.materialized or node.resource_type}, {data.execution_time:.1f} s)"
    )


@dataclass(frozen=True)
class RunResults:
    """How the nodes of a dbt command ended, from its `run_results.json`."""

    command: str
    statuses: Counter[str]

    @classmethod
    def read(cls, target_path: Path) -> RunResults | None:
        """The results of the last dbt command that wrote them to `target_path`, or None."""
        path = target_path / "run_results.json"
        if not path.is_file():
            return None
        document = json.loads(path.read_text())
        command = document.get("args", {}).get("which", "dbt")
        return cls(command, Counter(str(result["status"]) for result in document["results"]))

    @property
    def passed(self) -> int:
        return self.statuses["success"] + self.statuses["pass"]

    @property
    def errors(self) -> int:
        return sum(self.statuses[s] for s in ("error", "fail", "runtime error"))

    def line(self) -> str:
        """One line, as a person reads it: `dbt build: 186 passed, 0 warnings, 0 errors, 0 skipped, 8 no-op`.

        No-op nodes (ephemeral models, exposures) have nothing to run; dbt counts them apart too.
        """
        return (
            f"dbt {self.command}: {self.passed} passed, {self.statuses['warn']} warnings, "
            f"{self.errors} errors, {self.statuses['skipped']} skipped, {self.statuses['no-op']} no-op"
        )
