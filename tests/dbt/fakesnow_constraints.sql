{#
    fakesnow compatibility for the marts' primary keys: TEST SUPPORT ONLY, never part of dbt_project.

    tests/dbt/test_snowflake_standin.py copies this file, beside tests/standins/fakesnow's
    fakesnow_compat.sql, into its throwaway copy of the dbt project. Like those macros it changes
    what dbt-snowflake emits only when `target.account == 'fakesnow'`.

    snowflake__get_table_columns_and_constraints: no model-level constraints in the column list.
    dbt-snowflake creates a contracted table as `create table X (<columns>, primary key (...)) as
    (select ...)`, which Snowflake accepts (the key is recorded, not enforced). fakesnow 0.12
    counts the out-of-line `primary key (...)` as a column and refuses the statement:
        002026 (42601): SQL compilation error: Invalid column definition list
    Without it the table is the same; the `primary_key` tests still check the keys.
#}

{% macro snowflake__get_table_columns_and_constraints() -%}
    {%- if target.account == 'fakesnow' -%}
        {%- set columns = adapter.render_raw_columns_constraints(raw_columns=model['columns']) -%}
    (
        {{ columns | join(',\n        ') }}
    )
    {%- else -%}
        {{ return(dbt.default__get_table_columns_and_constraints()) }}
    {%- endif -%}
{%- endmacro %}
