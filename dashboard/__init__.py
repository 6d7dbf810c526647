"""The tunelake dashboard: Streamlit pages over the dbt marts (`make dashboard`)."""
