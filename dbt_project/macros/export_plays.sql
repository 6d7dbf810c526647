{#
    What the two tables of the privacy export share: a play's times, and its identity (when it
    ended, what played, for how long) across files, exports and imports.
#}

{# The UTC day, start and end of a play from its end and the time played. #}
{% macro export_play_times() -%}
        -- dates
        {{ utc_date('ended_at') }} as ended_date,

        -- timestamps
        {{ dbt.dateadd('millisecond', '-1 * ms_played', 'ended_at') }} as started_at,
        ended_at
{%- endmacro %}

{#
    One row per play of `relation`, the first file and position that held it. The warehouse
    merges on the same key; a raw zone read as it is (or a rebuilt one) may repeat it.
#}
{% macro one_row_per_export_play(relation, columns) -%}
    {{ one_row_per_key(
        relation,
        key=['ended_at', 'item_key', 'ms_played'],
        order_by='source_file, source_position',
        columns=columns + ['ended_date', 'started_at', 'ended_at'],
    ) }}
{%- endmacro %}
