{{ popularity_daily_fact('track', signals=[
    'popularity', 'playlist_count', 'playlist_appearance_count', 'best_playlist_position', 'best_search_rank',
    'top_rank_short_term', 'top_rank_medium_term', 'top_rank_long_term', 'play_count',
]) }}
