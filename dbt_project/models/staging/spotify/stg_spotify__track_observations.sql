{{ daily_observations('track') }}
