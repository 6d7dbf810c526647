{{ entity_signals_daily('album') }}
