"""The dashboard's pages: the script Streamlit runs for each visit (served by `dashboard/app.py`).

Five pages read the marts of the configured target (see `dashboard.warehouse`): the catalog,
popularity trends, playlist reach, the user's recent listening and their whole listening history.
"""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st
from streamlit.navigation.page import StreamlitPage

# `streamlit run` puts only this folder on sys.path; the pages import `dashboard.*` from the checkout.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dashboard import filters, queries
from dashboard.views import catalog, history, listening, playlists, trends
from dashboard.warehouse import WarehouseUnavailableError, configured_target, one_connection

# An emoji icon becomes an inline SVG; a :material: one would be fetched from fonts.gstatic.com.
st.set_page_config(page_title="tunelake", page_icon="🎧", layout="wide")

PAGES = [
    # The default page answers at the root URL.
    st.Page(catalog.page, title="Catalog overview", icon=":material/library_music:", default=True),
    st.Page(trends.page, title="Popularity trends", icon=":material/trending_up:", url_path="trends"),
    st.Page(playlists.page, title="Playlist reach", icon=":material/queue_music:", url_path="playlists"),
    st.Page(listening.page, title="My listening", icon=":material/headphones:", url_path="listening"),
    st.Page(history.page, title="Listening history", icon=":material/history:", url_path="history"),
]


def main() -> None:
    navigation = st.navigation(PAGES)
    # What the run misses in the cache, it asks over one connection.
    with one_connection():
        show(navigation)


def show(navigation: StreamlitPage) -> None:
    try:
        target = configured_target()
        bounds = filters.data_bounds()
    except WarehouseUnavailableError as problem:
        st.title("tunelake dashboard")
        unavailable(problem)
        return
    if bounds is None:
        st.title("tunelake dashboard")
        st.info("The marts are there but empty: run `tunelake ingest` and `dbt build` (or `make demo`).")
        return
    try:
        navigation.run()
    except WarehouseUnavailableError as problem:
        unavailable(problem)
        return
    with st.sidebar:
        st.divider()
        st.caption(f"Marts read from {target.description}.")
        if st.button("Reload data", icon=":material/refresh:", help="Forget cached answers and query the marts again"):
            queries.read.clear()
            st.rerun()


def unavailable(problem: WarehouseUnavailableError) -> None:
    # Not a bug in the dashboard: what is wrong with the warehouse and what to run, no traceback.
    st.error(str(problem), icon=":material/database_off:")


main()
