"""The models compiled for Athena are valid Trino SQL, checked offline with trino-sql-validator."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import trino_sql_validator

from ingestion.transform import DBT_PROJECT_DIR, run_dbt

OFFLINE_COMPILE = ["compile", "--quiet", "--no-populate-cache", "--vars", "{offline_compile: true}"]


@pytest.fixture
def athena_environment(monkeypatch):
    for name, value in {
        "ATHENA_S3_STAGING_DIR": "s3://example-bucket/athena/",
        "AWS_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "example",
        "AWS_SECRET_ACCESS_KEY": "example",
    }.items():
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
