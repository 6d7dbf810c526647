{#
    How the listening marts count different tracks and artists among plays of every source: a
    track by its id, or by its lower-cased name where the play has no id (account data left
    unresolved); an artist by its lower-cased name, the one thing every source gives. Podcasts
    and audiobooks are left out.
#}
{% macro distinct_tracks_played() -%}
    count(distinct case when item_type = 'track' then coalesce(track_id, lower(track_name)) end)
{%- endmacro %}

{% macro distinct_artists_played() -%}
    count(distinct case when item_type = 'track' then lower(artist_name) end)
{%- endmacro %}
