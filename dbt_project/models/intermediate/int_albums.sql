-- Every album a loaded answer references, fetched or inferred: the one place album names and
-- release dates come from.
{{ inferred_members('album', 'stg_spotify__albums', columns=[
    'upc', 'album_type', 'label', 'image_url', 'release_date_precision', 'restriction_reason',
    'total_tracks', 'popularity', 'is_playable', 'release_date',
]) }}
