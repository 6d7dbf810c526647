"""`make smoke-snowflake`, `make smoke-athena` and `make smoke-trino` refuse without a real account's settings."""

from __future__ import annotations

import os
import subprocess

import pytest

from ingestion.transform import REPO_ROOT


@pytest.mark.parametrize(
    ("warehouse", "names"),
    [
        ("snowflake", ["DESTINATION__SNOWFLAKE__STAGE_NAME", "SNOWFLAKE_ACCOUNT", "SNOWFLAKE_PRIVATE_KEY_PATH"]),
        ("athena", ["DESTINATION__ATHENA__QUERY_RESULT_BUCKET", "ATHENA_S3_STAGING_DIR", "ATHENA_S3_DATA_DIR"]),
        ("trino", ["PYICEBERG_CATALOG__DEFAULT__TYPE", "TRINO_HOST", "TRINO_USER"]),
    ],
)
@pytest.mark.timeout(120)
def test_smoke_target_without_credentials_names_what_is_missing_and_runs_nothing(warehouse, names):
    # Only what a shell needs: no Spotify, AWS or Snowflake settings.
    environment = {key: os.environ[key] for key in ("PATH", "HOME") if key in os.environ}
    done = subprocess.run(
        ["make", "-s", f"smoke-{warehouse}"],
        cwd=REPO_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=110,
    )
    assert done.returncode != 0
    for name in ["SOURCES__SPOTIFY__CLIENT_ID", "SOURCES__SPOTIFY__CLIENT_SECRET", *names]:
        assert name in done.stderr
    # The repository's own raw zone is a local folder; the smoke run needs S3.
    assert "TUNELAKE__RAW_ZONE_URL: an s3:// URL (it is 'data/raw')" in done.stderr
    assert "Nothing was run" in done.stderr
