{#
    The first day distribution checks look at: `distribution_check_days` (dbt_project.yml)
    before the latest day of `date_column` in `model`, so a bad day long past does not warn
    forever and a check over years of history stays cheap.
#}
{% macro recent_since(model, date_column) -%}
    {{ dbt.dateadd('day', -var('distribution_check_days', 7), '(select max(' ~ date_column ~ ') from ' ~ model ~ ')') }}
{%- endmacro %}
