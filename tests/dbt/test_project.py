"""The dbt project over data the loader wrote from the sandbox: tests, docs, incrementals, targets."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import duckdb
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ingestion.config import Settings
from ingestion.pipeline import ingest
from ingestion.transform import DBT_PROJECT_DIR, MARTS, run_dbt
from tests.support import ATHENA_OFFLINE_ENVIRONMENT, OFFLINE_COMPILE, source_for

DAYS = [date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 3)]


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    """Three days loaded from a development-tier sandbox, with the user's listening."""
    from sandbox import Catalog, SandboxApi, SandboxServer

    root = tmp_path_factory.mktemp("warehouse")
    settings = Settings(
        raw_zone_url=str(root / "raw"), duckdb_path=str(root / "tunelake.duckdb"), pipelines_dir=str(root / "pipelines")
    )
    server = SandboxServer(SandboxApi(Catalog(seed=7, tracks=2_000), today=DAYS[0])).start()
    for day in DAYS:
        server.api.clock.set_date(day)
        ingest(settings, source_for(server, user=True))
    yield settings, server
    server.stop()


def snapshot(settings: Settings) -> dict[str, list[tuple]]:
    with duckdb.connect(settings.duckdb_path) as con:
        return {mart: sorted(con.sql(f"select * from marts.{mart}").fetchall(), key=repr) for mart in MARTS}


@pytest.mark.e2e
def test_build_passes_with_at_least_60_data_tests_and_10_unit_tests(warehouse):
    settings, _ = warehouse
    result = run_dbt(["build"], duckdb_path=settings.duckdb_path)
    kinds = [r.node.resource_type for r in result.result.results]
    assert kinds.count("test") >= 60
    assert kinds.count("unit_test") >= 10
    failed = [
        (r.node.name, str(r.status))
        for r in result.result.results
        if r.node.resource_type in ("model", "test", "unit_test") and r.status not in ("success", "pass")
    ]
    assert failed == []
    with duckdb.connect(settings.duckdb_path) as con:
        assert all(con.sql(f"select count(*) from marts.{mart}").fetchone()[0] > 0 for mart in MARTS)


@pytest.mark.e2e
def test_each_track_names_its_artists_in_credit_order(warehouse):
    """`artist_names` on DuckDB comes from macros/listagg.sql (sorted lists, not an ordered
    aggregate): it must equal DuckDB's own ordered `string_agg` over the bridge's credits."""
    settings, _ = warehouse
    run_dbt(["build", "--quiet"], duckdb_path=settings.duckdb_path)
    with duckdb.connect(settings.duckdb_path) as con:
        compared = con.sql(
            "with credited as ("
            "  select track_id, count(*) as artists,"
            "  string_agg(coalesce(artist_name, artist_id), ', ' order by credit_position) as names"
            "  from marts.dim_track_artists group by track_id"
            ") "
            "select count(*), count(*) filter (where credited.artists > 1), "
            "count(*) filter (where tracks.artist_names is distinct from credited.names) "
            "from marts.dim_tracks as tracks join credited using (track_id)"
        ).fetchone()
    tracks, with_several_artists, different = compared
    assert tracks > 100
    assert with_several_artists > 10
    assert different == 0


@pytest.mark.parametrize(
    ("order_by", "limit", "expected"),
    [
        ("order by name desc", None, "d, c, b, a"),
        ("order by credit, name", None, "a, d, b, c"),
        ("order by name", 2, "a, b"),
        ("order by credit", None, "a, d, b, c"),
    ],
)
@pytest.mark.e2e
def test_listagg_answers_every_form_in_order(warehouse, order_by, limit, expected):
    """macros/listagg.sql sorts lists for one ascending column and leaves the other forms of
    dbt's `listagg` (a limit, a descending or multi-column order) to DuckDB's `string_agg`:
    every form compiles and answers in the order asked, nulls skipped."""
    settings, _ = warehouse
    arguments = ", ".join(repr(value) for value in ("name", "', '", order_by, *([limit] if limit else [])))
    query = (
        f"select {{{{ dbt.listagg({arguments}) }}}} as names "
        "from (values ('c', 2), ('a', 1), (null, 1), ('b', 2), ('d', 1)) as credits(name, credit)"
    )
    result = run_dbt(["show", "--quiet", "--inline", query], duckdb_path=settings.duckdb_path)
    assert result.result.results[0].agate_table.rows[0][0] == expected


@pytest.mark.e2e
def test_every_model_and_every_column_in_the_catalog_is_described(warehouse):
    settings, _ = warehouse
    run_dbt(["build", "--quiet"], duckdb_path=settings.duckdb_path)
    run_dbt(["docs", "generate", "--quiet"], duckdb_path=settings.duckdb_path)
    manifest = json.loads((DBT_PROJECT_DIR / "target" / "manifest.json").read_text())
    catalog = json.loads((DBT_PROJECT_DIR / "target" / "catalog.json").read_text())
    models = {k: v for k, v in manifest["nodes"].items() if v["resource_type"] == "model"}
    missing = [k for k, v in models.items() if not v["description"].strip()]
    # Stored test failures (`test_failures` schema) are in the catalog too; they are not models.
    for key, node in catalog["nodes"].items():
        if not key.startswith("model."):
            continue
        documented = {name.lower(): c["description"] for name, c in models.get(key, {"columns": {}})["columns"].items()}
        missing += [f"{key}.{c}" for c in node["columns"] if not documented.get(c.lower(), "").strip()]
    for key, node in catalog["sources"].items():
        documented = {n.lower(): c["description"] for n, c in manifest["sources"][key]["columns"].items()}
        missing += [
            f"{key}.{c}"
            for c in node["columns"]
            if not c.startswith("_dlt") and not documented.get(c.lower(), "").strip()
        ]
    assert missing == []
    assert len(catalog["nodes"]) >= len(MARTS)


@pytest.mark.e2e
def test_after_a_new_day_the_incremental_run_equals_a_full_refresh(warehouse):
    settings, server = warehouse
    run_dbt(["build", "--quiet"], duckdb_path=settings.duckdb_path)
    server.api.clock.set_date(date(2026, 11, 4))
    ingest(settings, source_for(server, user=True))
    run_dbt(["build", "--quiet"], duckdb_path=settings.duckdb_path)
    incremental = snapshot(settings)
    run_dbt(["build", "--quiet", "--full-refresh"], duckdb_path=settings.duckdb_path)
    full = snapshot(settings)
    assert {m: len(r) for m, r in incremental.items()} == {m: len(r) for m, r in full.items()}
    assert incremental == full
    assert max(r[1] for r in full["fct_track_popularity_daily"]) == date(2026, 11, 4)


def test_the_snowflake_and_athena_targets_compile_offline(tmp_path, monkeypatch):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_file = tmp_path / "snowflake_key.p8"
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    for name, value in {
        "SNOWFLAKE_ACCOUNT": "example-account",
        "SNOWFLAKE_USER": "tunelake",
        "SNOWFLAKE_PRIVATE_KEY_PATH": str(key_file),
        **ATHENA_OFFLINE_ENVIRONMENT,
    }.items():
        monkeypatch.setenv(name, value)
    for target in ("snowflake", "athena"):
        run_dbt(OFFLINE_COMPILE, target=target)
        compiled = (
            DBT_PROJECT_DIR / "target" / "compiled" / "tunelake" / "models" / "marts" / "fct_track_trends_daily.sql"
        )
        assert "signal_score" in compiled.read_text()


@pytest.mark.e2e
@pytest.mark.browser
def test_dbt_docs_serve_lists_the_marts_and_draws_the_lineage(warehouse):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    from tests.browser import artifact, chromium_driver

    settings, _ = warehouse
    run_dbt(["docs", "generate", "--quiet"], duckdb_path=settings.duckdb_path)
    port = free_port()
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "dbt"),
            "docs",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-browser",
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
        ],
        env={**os.environ, "TUNELAKE_DUCKDB_PATH": settings.duckdb_path},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    driver = chromium_driver()
    try:
        wait_for_port(port)
        driver.get(f"http://127.0.0.1:{port}/#!/model/model.tunelake.fct_track_trends_daily?g_v=1")
        wait = WebDriverWait(driver, 60)
        wait.until(expected_conditions.presence_of_element_located((By.CSS_SELECTOR, "#cy canvas")))
        for mart in ("dim_tracks", "fct_track_popularity_daily", "fct_plays"):
            assert mart in driver.page_source, mart
        assert "Lineage Graph" in driver.find_element(By.TAG_NAME, "body").text
        # Cytoscape draws the nodes on its own canvas layer: count the pixels it painted.
        painted = """
            const layer = document.querySelector('#cy canvas[data-id="layer2-node"]');
            if (!layer || layer.width === 0) { return 0; }
            const pixels = layer.getContext('2d').getImageData(0, 0, layer.width, layer.height).data;
            let painted = 0;
            for (let i = 3; i < pixels.length; i += 4) { if (pixels[i] > 0) { painted += 1; } }
            return painted;
        """
        wait.until(lambda d: d.execute_script(painted) > 5_000)
        screenshot = artifact("dbt-docs-lineage.png")
        driver.save_screenshot(str(screenshot))
        assert screenshot.stat().st_size > 10_000
    finally:
        driver.quit()
        server.terminate()
        server.wait(timeout=10)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port}")
