"""The raw tables' one declaration, and what is generated from it."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingestion.spotify.tables import BY_NAME, DECLARED, SOURCES_YAML, sources_yaml

ROOT = Path(__file__).resolve().parents[2]


def test_the_checked_in_dbt_sources_are_the_ones_generated_from_the_declaration():
    assert (ROOT / SOURCES_YAML).read_text() == sources_yaml(), "run `make sources` after changing tables.py"


def test_every_key_column_is_declared_and_every_column_has_a_description():
    for table in DECLARED:
        names = [c.name for c in table.columns]
        assert set(table.primary_key) <= set(names), table.name
        assert len(names) == len(set(names)), table.name
        assert all(c.description.strip() for c in table.columns), table.name


def test_a_row_reads_each_column_at_its_path_with_its_type_and_refuses_unknown_columns():
    payload = {"name": "", "duration_ms": "long", "explicit": True, "external_ids": {"isrc": "QZ123"}, "popularity": 7}
    row = BY_NAME["tracks"].row(payload, track_id="4iV5W9uYEdYUVa79Axb7Rh")
    assert row["track_id"] == "4iV5W9uYEdYUVa79Axb7Rh"
    assert row["name"] == ""  # an empty name stays empty: it marks a ghost track
    assert row["duration_ms"] is None  # a value of the wrong type is no value
    assert (row["is_explicit"], row["isrc"], row["popularity"]) == (True, "QZ123", 7)
    assert row["album_id"] is None
    with pytest.raises(KeyError, match="no column"):
        BY_NAME["tracks"].row(payload, tempo=120)
