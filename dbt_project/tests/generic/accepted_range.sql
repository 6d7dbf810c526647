{#
    Every non-null value lies within [min_value, max_value]; without a max_value, at least min_value.
#}
{% test accepted_range(model, column_name, min_value, max_value=none) %}

select {{ column_name }}
from {{ model }}
where
    {{ column_name }} < {{ min_value }}
    {%- if max_value is not none %}
    or {{ column_name }} > {{ max_value }}
    {%- endif %}

{% endtest %}
