{{ entity_signals_daily('artist', measures=['popularity', 'followers']) }}
