"""tunelake dashboard: `streamlit run dashboard/app.py` (or `make dashboard`) over the dbt marts.

The server, as an `st.App`: Streamlit serves the pages of `dashboard/pages.py`. As it starts, before
its first answer, it does the work of a first page load (`dashboard.warm_up`): the first visitor
finds the imports done and the default page's answers cached. Its socket listens from the start,
so a visitor who comes earlier waits for the end of the warm-up, then is served; `streamlit run`
prints the dashboard's address once it is ready. A warehouse slow to answer (a remote engine, a
sign-in) holds the start for `WARM_UP_WAIT_SECONDS` at most; the warm-up then goes on beside
the served pages.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import streamlit as st

# `streamlit run` puts only this folder on sys.path; the warm-up imports `dashboard.*` from the checkout.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dashboard.warm_up import warm_up

WARM_UP_WAIT_SECONDS = 15


@asynccontextmanager
async def lifespan(_app: st.App) -> AsyncIterator[None]:
    # Off the event loop, but awaited: the warm-up would otherwise compete for the cores with the
    # first visitor's browser, which is compiling Streamlit's scripts at that moment.
    warming = asyncio.ensure_future(asyncio.to_thread(warm_up))
    await asyncio.wait([warming], timeout=WARM_UP_WAIT_SECONDS)
    yield


app = st.App("pages.py", lifespan=lifespan)
