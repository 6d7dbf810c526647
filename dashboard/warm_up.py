"""What the first page load would do on a new server, done as the server starts instead.

A new server has imported Streamlit and nothing else: the first visitor would wait for pandas,
pyarrow and Altair to import, for the warehouse to answer and for Altair to build its schema
validator. `warm_up` does that work before the server's first answer (`dashboard/app.py`), so it
does not compete for the cores with the browser compiling Streamlit's scripts, and leaves the
default page's answers (Catalog overview, default filters) in the query cache the pages read
(`queries.read`).

Only the default page's: the other pages' answers cost a few milliseconds each once the
connection is open, and warming them all would hold the server's start longer.
"""

from __future__ import annotations

import contextlib
import importlib
import time

from streamlit.logger import get_logger

# Streamlit's logger: its lines go where the server's own go (`logger.level`, info by default).
logger = get_logger(__name__)

# Streamlit's own modules a first run imports on the way: the emoji table that checks the page icon
# (a third of a second on a busy machine) and the adapters that turn frames into Arrow. Internal
# names: one that a later Streamlit moves is skipped, not a reason to stop the warm-up.
STREAMLIT_MODULES = (
    "streamlit.emojis",
    "streamlit.material_icon_names",
    "streamlit.dataframe.lazy_df_adapters",
    "pyarrow.pandas_compat",
    "narwhals._interchange.series",
)


def warm_up() -> None:
    """Import what the pages use, answer the default page's queries and build one chart.

    Never raises: a warehouse that cannot be read now is the first page's to explain, with the
    message it shows (`WarehouseUnavailableError`), and nothing failed is cached.
    """
    started = time.perf_counter()
    try:
        cached = _warm_up()
    except Exception as error:  # a bug here must not take the server down: the pages still work, only slower
        logger.warning("dashboard warm-up stopped: %s", error)
        return
    answers = "the default page's answers cached" if cached else "nothing cached (no marts to read yet)"
    logger.info("dashboard warm-up in %.2f s: %s", time.perf_counter() - started, answers)


def _warm_up() -> bool:
    """Whether the default page's answers are now cached."""
    import altair as alt
    import pandas as pd

    # Each page module, and through them pyarrow (Streamlit's frames travel as Arrow).
    import pyarrow  # noqa: F401

    from dashboard import filters
    from dashboard.views import catalog, history, listening, playlists, trends  # noqa: F401
    from dashboard.warehouse import WarehouseUnavailableError, one_connection

    for module in STREAMLIT_MODULES:
        with contextlib.suppress(ImportError):
            importlib.import_module(module)

    # Altair validates every chart against the Vega-Lite schema; the first validation compiles it.
    alt.Chart(pd.DataFrame({"kind": ["a"], "count": [1]})).mark_bar().encode(x="kind:N", y="count:Q").to_dict()

    try:
        with one_connection():
            bounds = filters.data_bounds()
            if bounds is None:
                return False
            # The sidebar's default: no artist chosen.
            catalog.catalog_of(filters.Filters(*filters.default_range(*bounds), artist_ids=(), artist_names=()))
    except WarehouseUnavailableError:
        return False
    return True
