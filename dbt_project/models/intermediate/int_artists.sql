-- Every artist a loaded answer references, fetched or inferred: the one place artist names
-- come from, so every mart names an artist the same way.
{{ inferred_members('artist', 'stg_spotify__artists', columns=['image_url', 'popularity', 'followers']) }}
