{#
    Production targets (the var `production_targets`) write the custom schemas as they are
    (`staging`, `marts`, `test_failures`), the names the dashboard and BI tools read on every
    engine. Any other target, a developer's or CI's, prefixes them with its own schema
    (`dev_marts`), as jaffle-shop does, so its builds never write production's schemas.
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- elif target.name in var('production_targets') -%}
        {{ custom_schema_name | trim }}
    {%- else -%}
        {{ target.schema }}_{{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
