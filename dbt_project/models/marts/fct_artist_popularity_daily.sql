{{ popularity_daily_fact('artist', signals=[
    'popularity', 'followers', 'top_rank_short_term', 'top_rank_medium_term', 'top_rank_long_term',
    'playlist_count', 'best_playlist_position', 'best_search_rank', 'play_count',
]) }}
