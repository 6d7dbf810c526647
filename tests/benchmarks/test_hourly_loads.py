"""Generated older loads are laid out as real runs leave them: indexed, before the real load, readable."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from benchmarks import hourly_loads
from ingestion import raw_zone
from ingestion.pipeline import RunSummary, ingest, load_warehouse
from ingestion.spotify import tables
from tests.support import other_settings, source_for, table_counts

OLDER = 5


@pytest.mark.e2e
def test_older_loads_come_before_the_real_one_and_load_like_real_files(sandbox, settings, tmp_path):
    ingest(settings, source_for(sandbox, user=True))
    raw = Path(settings.raw_zone_url)
    real = hourly_loads.RealLoad.read(raw)
    written = hourly_loads.write(raw, hourly_loads.older_files(real, OLDER))
    older = hourly_loads.older_load_ids(real.load_id, OLDER)

    entries = raw_zone.pending(settings.raw_zone_url, None)
    assert [e.load_id for e in entries] == [*older, real.load_id]
    assert all((raw / path).is_file() for path in written)
    for table in tables.TABLES:
        rows = sum(b.num_rows for b in raw_zone.read_batches(settings.raw_zone_url, table, entries[0].files[table]))
        assert rows == len(real.rows.get(table) or range(hourly_loads.ROWS)), table
    states = list((raw / "spotify" / "_dlt_pipeline_state").iterdir())
    assert len(states) == hourly_loads.STATE_FILES

    # The warehouse's cursor is past them: a same-day re-run loads none of their rows.
    rerun = ingest(settings, source_for(sandbox, user=True))
    assert sum(rerun.warehouse_rows.values()) == 0
    # A warehouse rebuilt from the raw zone takes them, the tables the real run left empty too.
    rebuilt = replace(other_settings(tmp_path, "rebuilt"), raw_zone_url=settings.raw_zone_url)
    load_warehouse(rebuilt, RunSummary())
    assert table_counts(rebuilt)["history_streams"] == hourly_loads.ROWS
