{{ artist_credits('track') }}
