{{ popularity_daily_fact('album', signals=[
    'popularity', 'playlist_count', 'best_playlist_position', 'best_search_rank', 'play_count',
]) }}
