"""DuckDB: the embedded default, one file the loader writes and dbt and the dashboard read."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ingestion.engines.base import Engine, EngineSettingsError, Reader

if TYPE_CHECKING:
    from dlt.common.destination import Destination

    from ingestion.config import Settings

# The profile's default, `../data/tunelake.duckdb` from dbt_project/, seen from the checkout root.
DEFAULT_PATH = Path(__file__).resolve().parents[2] / "data" / "tunelake.duckdb"


class DuckDB(Engine):
    name = "duckdb"
    load_requirements = ()
    dbt_requirements = ("dbt-core", "dbt-duckdb")

    def destination(self, settings: Settings) -> Destination[Any, Any]:
        Path(settings.duckdb_path).parent.mkdir(parents=True, exist_ok=True)
        import dlt

        return dlt.destinations.duckdb(settings.duckdb_path)

    def label(self, settings: Settings) -> str:
        return f"duckdb {settings.duckdb_path}"

    def reader(self, environ: Mapping[str, str]) -> Reader:
        path = Path(environ.get("TUNELAKE_DUCKDB_PATH") or DEFAULT_PATH).expanduser().resolve()

        def connect() -> Any:
            # Read-only, per query: a held connection would lock the file against the next
            # `tunelake ingest` or `dbt build`, and opening a local file costs milliseconds.
            import duckdb

            if not path.is_file():
                raise EngineSettingsError(
                    f"No warehouse at {path}. `tunelake run` builds yours there, or point "
                    "tunelake.duckdb_path at your DuckDB file; `make demo` then `make dashboard-demo` shows the demo."
                )
            return duckdb.connect(str(path), read_only=True)

        def errors() -> tuple[type[Exception], ...]:
            import duckdb

            return (duckdb.Error,)

        return Reader(f"DuckDB file {path}", {"path": str(path)}, connect, errors)


ENGINE = DuckDB()
