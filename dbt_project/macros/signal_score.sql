{#
    A 0-100 attention score for one entity on one day: Spotify's popularity when the tier gives
    it, otherwise what every app can see: 20 points per tracked playlist the entity is in, up
    to 20 for its best search rank (rank 1 gives 20), and 5 per play by the user.
#}
{% macro signal_score(popularity, playlist_count, best_search_rank, play_count) -%}
    coalesce(
        {{ popularity }},
        least(
            100,
            20 * coalesce({{ playlist_count }}, 0)
            + coalesce(21 - least({{ best_search_rank }}, 21), 0)
            + 5 * coalesce({{ play_count }}, 0)
        )
    )
{%- endmacro %}
