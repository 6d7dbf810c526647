"""`fakesnow -s` with one DuckDB 2.0 optimizer switched off; run by .venv-fakesnow's Python.

Usage: python serve.py HOST PORT

DuckDB 2.0.0's `top_n_window_elimination` (it rewrites `row_number() over (...) = 1` filters)
loses the ICU cast from TIMESTAMP WITH TIME ZONE to DATE: a grouped query over a view that
deduplicates that way and casts a TIMESTAMP_TZ to a date fails with `Conversion Error:
Unimplemented type for cast (TIMESTAMP WITH TIME ZONE -> DATE)`, which DuckDB 1.5 runs. The
setting is global to the server's one in-memory DuckDB database, so every session gets it.
"""

import sys

import uvicorn
from fakesnow.server import app, shared_fs

shared_fs.duck_conn.execute("SET disabled_optimizers = 'top_n_window_elimination'")
uvicorn.run(app, host=sys.argv[1], port=int(sys.argv[2]), log_level="info")
