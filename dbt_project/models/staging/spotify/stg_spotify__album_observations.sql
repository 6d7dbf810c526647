{{ daily_observations('album') }}
