"""`fakesnow -s` with one DuckDB 2.0 optimizer switched off; run by .venv-fakesnow's Python.

Usage: python serve.py HOST PORT [TIME_ZONE]

DuckDB 2.0.0's `top_n_window_elimination` (it rewrites `row_number() over (...) = 1` filters)
loses the ICU cast from TIMESTAMP WITH TIME ZONE to DATE: a grouped query over a view that
deduplicates that way and casts a TIMESTAMP_TZ to a date fails with `Conversion Error:
Unimplemented type for cast (TIMESTAMP WITH TIME ZONE -> DATE)`, which DuckDB 1.5 runs. The
setting is global to the server's one in-memory DuckDB database, so every session gets it.

TIME_ZONE is the zone every session runs in. fakesnow sets DuckDB's to UTC, which hides what a
real account does: one that sets no TIMEZONE runs sessions in America/Los_Angeles, and casts a
TIMESTAMP_LTZ (or any zoned timestamp DuckDB holds) to a date in that zone. The statement a real
session would use, ALTER SESSION SET TIMEZONE, is one fakesnow does not implement. fakesnow
sends zoned results to the client only in UTC (it asserts the zone), so they are relabelled UTC
first: the same instants, with offset 0 where Snowflake would send the session's; and a null
timestamp, which fakesnow sends as 1970-01-01, is sent as a null.
"""

import re
import sys

import pyarrow as pa
import uvicorn
from fakesnow import arrow
from fakesnow.server import app, shared_fs

_timestamp_to_sf_struct = arrow.timestamp_to_sf_struct


def _sf_timestamps(ts: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(ts, pa.ChunkedArray):
        ts = ts.combine_chunks()
    if ts.type.tz and ts.type.tz != "UTC":
        ts = ts.cast(pa.timestamp(ts.type.unit, "UTC"))
    encoded = _timestamp_to_sf_struct(ts)
    if not ts.null_count:
        return encoded
    # fakesnow builds the struct without a validity mask: a null came back as 1970-01-01.
    return pa.StructArray.from_arrays(encoded.flatten(), fields=list(encoded.type), mask=ts.is_null())


shared_fs.duck_conn.execute("SET disabled_optimizers = 'top_n_window_elimination'")
arrow.timestamp_to_sf_struct = _sf_timestamps
if len(sys.argv) > 3:
    zone = sys.argv[3]
    if not re.fullmatch(r"[A-Za-z_/+-]+", zone):
        raise SystemExit(f"not a time zone name: {zone!r}")
    shared_fs.duck_conn.execute(f"SET GLOBAL TimeZone = '{zone}'")
uvicorn.run(app, host=sys.argv[1], port=int(sys.argv[2]), log_level="info")
