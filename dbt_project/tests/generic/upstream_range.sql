{#
    A value Spotify controls (popularity, followers, ranks, positions) lies within
    [min_value, max_value]. Spotify can change its scales without notice, so the check warns
    (the test policy in dbt_project.yml), looks at recent days only when `date_column` is given,
    and keeps its failing rows for a person to look at. Ranges on tunelake's own computations
    use `accepted_range`, which stops the build.
#}
{% test upstream_range(model, column_name, min_value, max_value, date_column=none) %}

{{ config(severity='warn', store_failures=true) }}

select *
from {{ model }}
where
    ({{ column_name }} < {{ min_value }} or {{ column_name }} > {{ max_value }})
    {% if date_column %}
        and {{ date_column }} >= {{ recent_since(model, date_column) }}
    {% endif %}

{% endtest %}
