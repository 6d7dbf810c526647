"""The models compiled for Athena are valid Trino SQL, checked offline with trino-sql-validator and sqlfluff."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import sqlfluff
import trino_sql_validator
from sqlfluff.api.simple import APIParsingError

from ingestion.transform import DBT_PROJECT_DIR, MARTS, run_dbt
from tests.support import ATHENA_OFFLINE_ENVIRONMENT, OFFLINE_COMPILE


@pytest.fixture
def athena_environment(monkeypatch):
    for name, value in ATHENA_OFFLINE_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)


def compiled_models(project_dir: Path) -> list[Path]:
    """Compiled SQL of the models (tests and unit tests compile under their YAML file's name)."""
    root = project_dir / "target" / "compiled" / "tunelake" / "models"
    return sorted(p for p in root.rglob("*.sql") if not any(part.endswith(".yml") for part in p.parts))


def trino_problems(files: list[Path]) -> dict[str, str]:
    """Each file trino-sql-validator finds invalid or warns about (unknown functions, types)."""
    problems = {}
    for file in files:
        result = trino_sql_validator.validate(file.read_text(), dialect="trino")
        if not result.valid or result.warnings:
            problems[file.name] = str(result.error) if not result.valid else "; ".join(map(str, result.warnings))
    return problems


def sqlfluff_parse_errors(files: list[Path]) -> dict[str, list[str]]:
    """Each file sqlfluff's athena dialect cannot parse, with its unparsable sections.

    Parsing only: the style rules (layout, capitalisation, aliases) would judge the SQL as dbt
    renders it, inlined ephemeral CTEs and macro output included, which nobody edits; the
    models' own source is linted for style with `.sqlfluff`.
    """
    problems = {}
    for file in files:
        try:
            sqlfluff.parse(file.read_text(), dialect="athena")
        except APIParsingError as error:
            problems[file.name] = [violation.desc() for violation in error.violations]
    return problems


def test_every_model_compiled_for_athena_is_valid_trino(athena_environment):
    run_dbt([*OFFLINE_COMPILE], target="athena")
    files = compiled_models(DBT_PROJECT_DIR)
    assert len(files) >= 30
    assert trino_problems(files) == {}


def test_a_duckdb_only_construct_in_a_model_fails_the_check(athena_environment, tmp_path):
    project = tmp_path / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs", "profiles.yml"))
    (project / "models" / "marts" / "duckdb_only.sql").write_text(
        "select track_id from {{ ref('dim_tracks') }}\nqualify row_number() over (order by track_id) = 1\n"
    )
    run_dbt([*OFFLINE_COMPILE, "--select", "duckdb_only"], target="athena", project_dir=project)
    problems = trino_problems(compiled_models(project))
    assert list(problems) == ["duckdb_only.sql"]
    assert list(sqlfluff_parse_errors(compiled_models(project))) == ["duckdb_only.sql"]


@pytest.mark.timeout(300)
def test_every_model_compiled_for_athena_parses_with_sqlfluff(athena_environment, tmp_path):
    project = tmp_path / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs", "profiles.yml"))
    run_dbt([*OFFLINE_COMPILE], target="athena", project_dir=project)
    files = compiled_models(project)
    assert len(files) >= 30
    assert sqlfluff_parse_errors(files) == {}


def test_athena_marts_are_iceberg_with_daily_facts_partitioned_by_day_and_merged(athena_environment):
    run_dbt([*OFFLINE_COMPILE, "--select", "marts"], target="athena")
    manifest = json.loads((DBT_PROJECT_DIR / "target" / "manifest.json").read_text())
    marts = {n["name"]: n["config"] for n in manifest["nodes"].values() if n["resource_type"] == "model"}
    marts = {name: config for name, config in marts.items() if name in MARTS}
    assert set(marts) == set(MARTS)
    assert {config["table_type"] for config in marts.values()} == {"iceberg"}
    incremental = {name: config for name, config in marts.items() if config["materialized"] == "incremental"}
    assert {config["incremental_strategy"] for config in incremental.values()} == {"merge"}
    # The dimensions merge on their entity's id, one row each: nothing to partition by.
    dimensions = {name: config for name, config in incremental.items() if name.startswith("dim_")}
    assert {name: config["unique_key"] for name, config in dimensions.items()} == {
        "dim_tracks": "track_id",
        "dim_albums": "album_id",
        "dim_artists": "artist_id",
    }
    assert all(not config.get("partitioned_by") for config in dimensions.values())
    # Every incremental fact is a daily one: Iceberg partitions by day, Snowflake clusters on the
    # date (the trends excepted: they append in date order, see the model).
    facts = {name: config for name, config in incremental.items() if name not in dimensions}
    for name, config in facts.items():
        (partition,) = config["partitioned_by"]
        assert partition.startswith("day("), name
        clustered = [partition[4:-1]] if name != "fct_track_trends_daily" else None
        assert config.get("cluster_by") == clustered, name
