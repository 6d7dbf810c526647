"""What the first page load would do on a new server, done as the server starts instead.

A new server has imported Streamlit and nothing else: the first visitor would wait for pandas,
pyarrow and Altair to import, for the warehouse to answer and for Altair to build its schema
validator. `warm_up` does that work in a thread while the browser is still fetching Streamlit's
scripts, and leaves the answers in the query cache the pages read (`queries.read`): the
queries of every page with its default filters, the default page's first.
"""

from __future__ import annotations

import time

from streamlit.logger import get_logger

# Streamlit's logger: its lines go where the server's own go (`logger.level`, info by default).
logger = get_logger(__name__)


def warm_up() -> None:
    """Import what the pages use, answer their default queries and build one chart.

    Never raises: a warehouse that cannot be read now is the first page's to explain, with the
    message it shows (`WarehouseUnavailableError`), and nothing failed is cached.
    """
    started = time.perf_counter()
    try:
        answered = _warm_up()
    except Exception:
        logger.debug("dashboard warm-up stopped", exc_info=True)
        return
    logger.info("dashboard warm-up: %d queries answered in %.2f s", answered, time.perf_counter() - started)


def _warm_up() -> int:
    import altair as alt
    import pandas as pd

    # Each page module, and through them pyarrow (Streamlit's frames travel as Arrow).
    import pyarrow  # noqa: F401

    from dashboard import filters
    from dashboard.queries import SQL, query
    from dashboard.views import catalog, history, listening, playlists, trends  # noqa: F401
    from dashboard.warehouse import WarehouseUnavailableError, one_connection

    # Altair validates every chart against the Vega-Lite schema; the first validation compiles it.
    alt.Chart(pd.DataFrame({"kind": ["a"], "count": [1]})).mark_bar().encode(x="kind:N", y="count:Q").to_dict()

    answered = 0
    try:
        with one_connection():
            bounds = filters.data_bounds()
            if bounds is None:
                return answered
            start, end = filters.default_range(*bounds)
            for name, sql in SQL.items():
                # Statements for chosen tracks only run once someone chooses them.
                if "{ids}" not in sql:
                    query(name, start, end)
                    answered += 1
    except WarehouseUnavailableError:
        pass
    return answered
