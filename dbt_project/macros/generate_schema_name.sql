{#
    Custom schemas are used as they are (`staging`, `marts`) rather than prefixed with the
    target schema, so BI tools find the marts under one stable name on every engine.
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
