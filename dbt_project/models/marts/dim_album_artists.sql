{{ artist_credits('album') }}
