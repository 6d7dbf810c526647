"""Schema names per target: production targets write `staging`, `marts` and `test_failures` as
they are; any other target, a developer's or CI's, prefixes them with its own schema."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
import yaml

from benchmarks import rawgen
from ingestion.transform import DBT_PROJECT_DIR, PROFILES_TEMPLATE, run_dbt

SCALE = rawgen.Scale(tracks=60, days=2, playlists=2, playlist_size=10, queries=2, top_depth=5, plays_per_day=3)
# Views, tables and a stored test failure (the warn-only accepted_values on release date precision),
# without the models dim_tracks' relationships tests would need.
SELECTION = ["--select", "stg_spotify__albums", "+dim_playlists", "--indirect-selection", "cautious"]
PRODUCTION_SCHEMAS = {"staging", "marts", "test_failures"}


def project_with_ci_target(root: Path) -> Path:
    """A copy of the project whose profile adds `ci`, the duckdb target under another name and schema."""
    project = root / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs", "profiles.yml"))
    profile = yaml.safe_load(PROFILES_TEMPLATE.read_text())
    outputs = profile["tunelake"]["outputs"]
    outputs["ci"] = {**outputs["duckdb"], "schema": "ci"}
    (project / "profiles.yml").write_text(yaml.safe_dump(profile))
    return project


def relations(path: str) -> dict[str, set[str]]:
    """Every table and view dbt may have written, by schema (the raw `spotify` schema left out)."""
    with duckdb.connect(path) as con:
        rows = con.sql(
            "select table_schema, table_name from information_schema.tables where table_schema <> 'spotify'"
        ).fetchall()
    found: dict[str, set[str]] = {}
    for schema, name in rows:
        found.setdefault(schema, set()).add(name)
    return found


def test_every_target_of_the_example_profile_builds_production():
    profile = yaml.safe_load(PROFILES_TEMPLATE.read_text())
    project = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text())
    assert set(profile["tunelake"]["outputs"]) <= set(project["vars"]["production_targets"])


@pytest.mark.e2e
def test_a_non_production_target_prefixes_its_schemas_and_leaves_productions_alone(tmp_path):
    warehouse = str(tmp_path / "tunelake.duckdb")
    rawgen.generate(warehouse, SCALE)
    project = project_with_ci_target(tmp_path)

    run_dbt(["build", "--quiet", *SELECTION], duckdb_path=warehouse, target="duckdb", project_dir=project)
    production = relations(warehouse)
    assert set(production) >= PRODUCTION_SCHEMAS
    assert {"dim_playlists", "fct_playlist_tracks"} <= production["marts"]
    # A build that wrote production's marts again would replace this.
    with duckdb.connect(warehouse) as con:
        con.execute("update marts.dim_playlists set playlist_name = 'left by production'")

    result = run_dbt(["build", "--quiet", *SELECTION], duckdb_path=warehouse, target="ci", project_dir=project)
    written = {r.node.schema for r in result.result.results}
    assert written == {f"ci_{schema}" for schema in PRODUCTION_SCHEMAS}
    after = relations(warehouse)
    assert {schema: after[schema] for schema in production} == production
    assert {schema: names for schema, names in after.items() if schema.startswith("ci_")} == {
        f"ci_{schema}": names for schema, names in production.items() if schema in PRODUCTION_SCHEMAS
    }
    with duckdb.connect(warehouse) as con:
        assert con.sql("select distinct playlist_name from marts.dim_playlists").fetchall() == [("left by production",)]
        assert con.sql("select count(*) from ci_marts.dim_playlists").fetchone()[0] > 0
