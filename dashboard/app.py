"""tunelake dashboard: `streamlit run dashboard/app.py` (or `make dashboard`) over the dbt marts.

The server, as an `st.App`: Streamlit serves the pages of `dashboard/pages.py`, and as it starts,
a thread does the work of a first page load ahead of the first visitor (`dashboard.warm_up`).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import streamlit as st

# `streamlit run` puts only this folder on sys.path; the warm-up imports `dashboard.*` from the checkout.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dashboard.warm_up import warm_up


@asynccontextmanager
async def lifespan(_app: st.App) -> AsyncIterator[None]:
    # In a thread, so the server answers at once: a visitor who comes before the warm-up ends
    # waits for what is left of it (imports and cached answers are shared), not for all of it.
    threading.Thread(target=warm_up, name="dashboard-warm-up", daemon=True).start()
    yield


app = st.App("pages.py", lifespan=lifespan)
