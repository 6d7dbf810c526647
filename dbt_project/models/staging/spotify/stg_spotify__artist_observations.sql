{{ daily_observations('artist', measures=['popularity', 'followers']) }}
