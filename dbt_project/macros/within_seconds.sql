{# Whether timestamp `value` lies within `seconds` of timestamp `center`, either side. #}
{% macro within_seconds(value, center, seconds) -%}
    {{ value }} between {{ dbt.dateadd('second', -seconds, center) }} and {{ dbt.dateadd('second', seconds, center) }}
{%- endmacro %}
