{#
    dbt's cross-database `listagg`, on DuckDB without its ordered aggregate: `string_agg(x, ', '
    order by y)` sorts every group apart, six times slower than collecting the group's (order,
    value) pairs and sorting each small list (1.46 s against 0.26 s for 1,000,000 tracks'
    artist names). Same answer: values in order of `order_by_clause` (ties broken by value),
    nulls skipped, null for a group of nulls only. Other engines use dbt's.
    dbt finds this before dbt-duckdb's own macro: the root project comes first in the `dbt`
    namespace's search order. That also hides dbt-duckdb's macro from this one, so the forms the
    fast path does not take (a `limit_num`, a descending or multi-column order) are dbt-duckdb's
    SQL, repeated here.
#}
{% macro duckdb__listagg(measure, delimiter_text, order_by_clause, limit_num) -%}
    {%- set order_by = (order_by_clause or '') | trim -%}
    {%- if limit_num -%}
        list_aggr((array_agg({{ measure }} {{ order_by }}))[1:{{ limit_num }}], 'string_agg', {{ delimiter_text }})
    {%- elif not order_by.lower().startswith('order by ') or ',' in order_by
        or order_by.lower().endswith(' desc') -%}
        string_agg({{ measure }}, {{ delimiter_text }} {{ order_by }})
    {%- else -%}
    {%- set order_expression = order_by[9:] | trim -%}
    {%- if order_expression.lower().endswith(' asc') -%}
        {%- set order_expression = order_expression[:-4] -%}
    {%- endif -%}
    case when count({{ measure }}) > 0 then
        array_to_string(
            list_transform(
                list_sort(list(struct_pack(sort_key := {{ order_expression }}, value := {{ measure }}))
                    filter (where {{ measure }} is not null)),
                pair -> pair.value
            ),
            {{ delimiter_text }}
        )
    end
    {%- endif -%}
{%- endmacro %}
