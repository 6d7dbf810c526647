-- A track's days are the days it was observed: its trend ranks the tracks observed that day.
{{ entity_signals_daily('track', observed_days_only=true) }}
