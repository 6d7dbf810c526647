{#
    The incremental strategy each engine supports for "replace these keys": delete+insert on
    DuckDB and Snowflake, merge into Iceberg tables on Athena and Trino.
#}
{% macro incremental_strategy() -%}
    {{ return(adapter.dispatch('incremental_strategy', 'tunelake')()) }}
{%- endmacro %}

{% macro default__incremental_strategy() -%}
    {{ return('delete+insert') }}
{%- endmacro %}

{% macro athena__incremental_strategy() -%}
    {{ return('merge') }}
{%- endmacro %}

{# Athena's engine is Trino: the same Iceberg tables, the same SQL. #}
{% macro trino__incremental_strategy() -%}
    {{ return(athena__incremental_strategy()) }}
{%- endmacro %}

{#
    The first day an incremental run rebuilds, as a date, or none on a full build: the last
    built day minus `incremental_lookback_days` (dbt_project.yml), so observations that arrived
    after the last build (a re-run later the same day, a stopped run resumed) replace their day.
    It is looked up before the model's query runs, so the engine filters on a constant: DuckDB,
    Snowflake and Athena skip older days (zone maps, micro-partitions, Iceberg partitions) for a
    literal, not for a subquery. Date arithmetic happens here, so the SQL holds literals only.
#}
{% macro incremental_since(date_column) -%}
    {#- `--vars '{offline_compile: true}'` compiles without asking the warehouse whether the
        table exists (what is_incremental() does), for checks on machines with no warehouse. -#}
    {%- if var('offline_compile', false) or not execute or not is_incremental() -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set latest = run_query('select max(' ~ date_column ~ ') from ' ~ this).columns[0].values()[0] -%}
    {%- if latest is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set latest = modules.datetime.date.fromisoformat((latest | string)[:10]) -%}
    {{ return(latest - modules.datetime.timedelta(days=var('incremental_lookback_days', 1))) }}
{%- endmacro %}

{# A date as a SQL literal every engine reads. #}
{% macro date_literal(day) -%}
    cast('{{ day.isoformat() }}' as date)
{%- endmacro %}

{# The filter of an incremental run: rows from `incremental_since` on (nothing on a full build). #}
{% macro incremental_window(date_column) -%}
    {%- set since = incremental_since(date_column) -%}
    {%- if since is not none -%}
        where {{ date_column }} >= {{ date_literal(since) }}
    {%- endif -%}
{%- endmacro %}

{#
    Physical layout of the daily facts. Athena and Trino: Iceberg partitions by day, so a query
    for a date range reads only those days. Snowflake clusters on the date through `cluster_by` in the
    model config, which pays once a fact spans many micro-partitions (automatic clustering
    costs credits; see the README). DuckDB partitions only DuckLake tables, so it gets nothing.
#}
{% macro partition_by_day(date_column) -%}
    {{ return(adapter.dispatch('partition_by_day', 'tunelake')(date_column)) }}
{%- endmacro %}

{% macro default__partition_by_day(date_column) -%}
    {{ return(none) }}
{%- endmacro %}

{% macro athena__partition_by_day(date_column) -%}
    {{ return(['day(' ~ date_column ~ ')']) }}
{%- endmacro %}

{% macro trino__partition_by_day(date_column) -%}
    {{ return(athena__partition_by_day(date_column)) }}
{%- endmacro %}

{#
    The table properties of a model partitioned by `partitions` (partition_by_day): none where
    the adapter takes the partitions from `partitioned_by` (Athena) or has none, Trino's
    Iceberg `partitioning` property on Trino.
#}
{% macro partition_properties(partitions) -%}
    {{ return(adapter.dispatch('partition_properties', 'tunelake')(partitions)) }}
{%- endmacro %}

{% macro default__partition_properties(partitions) -%}
    {{ return(none) }}
{%- endmacro %}

{% macro trino__partition_properties(partitions) -%}
    {%- set quoted = [] -%}
    {%- for partition in partitions -%}
        {%- do quoted.append("'" ~ partition ~ "'") -%}
    {%- endfor -%}
    {{ return({'partitioning': 'array[' ~ quoted | join(', ') ~ ']'}) }}
{%- endmacro %}

{#
    The config of an incremental fact: rows replaced by `unique_key`, laid out by day on
    `date_column` (partition_by_day and partition_properties above; Snowflake clustering unless
    `cluster_by_date` is false), columns added to the model appended to the table.
#}
{% macro incremental_fact_config(unique_key, date_column, cluster_by_date=true) -%}
    {%- set partitions = partition_by_day(date_column) -%}
    {%- set options = {
        'materialized': 'incremental',
        'unique_key': unique_key,
        'incremental_strategy': incremental_strategy(),
        'on_schema_change': 'append_new_columns',
        'partitioned_by': partitions,
    } -%}
    {%- set properties = partition_properties(partitions) if partitions else none -%}
    {%- if properties -%}
        {%- do options.update({'properties': properties}) -%}
    {%- endif -%}
    {%- if cluster_by_date -%}
        {%- do options.update({'cluster_by': [date_column]}) -%}
    {%- endif -%}
    {{ config(**options) }}
{%- endmacro %}

{#
    The config of an incremental dimension: one row per `unique_key`, replaced when it changed
    (delete+insert or merge, as the facts), columns added to the model appended to the table.
#}
{% macro incremental_dimension_config(unique_key) -%}
    {{ config(
        materialized='incremental',
        unique_key=unique_key,
        incremental_strategy=incremental_strategy(),
        on_schema_change='append_new_columns',
    ) }}
{%- endmacro %}

{#
    Whether this run is an incremental one; false on a full build and when compiling offline
    (`offline_compile`, as incremental_since).
#}
{% macro is_incremental_run() -%}
    {{ return(not var('offline_compile', false) and execute and is_incremental()) }}
{%- endmacro %}

{#
    The first and last day each entity of `observations` (a CTE or relation of `entity_id` and
    `observed_date`) was observed, as `first_seen_date` and `last_seen_date`. A full build reads
    every day; an incremental one reads the days from `incremental_since` on and widens the dates
    the dimension holds, so its cost follows the new days, not the history. Days before that
    never lose their observations (observations are keyed by entity and day), so the result is
    the full build's.
#}
{% macro seen_dates(observations, entity_id) -%}
{%- set since = incremental_since('last_seen_date') -%}
{%- if since is none -%}
    select
        {{ entity_id }},
        min(observed_date) as first_seen_date,
        max(observed_date) as last_seen_date

    from {{ observations }}
    group by {{ entity_id }}
{%- else -%}
    select
        coalesce(stored.{{ entity_id }}, recent.{{ entity_id }}) as {{ entity_id }},
        {#- least and greatest of a value and null are null on Snowflake and Trino: coalesce first. #}
        least(
            coalesce(stored.first_seen_date, recent.first_seen_date),
            coalesce(recent.first_seen_date, stored.first_seen_date)
        ) as first_seen_date,
        greatest(
            coalesce(stored.last_seen_date, recent.last_seen_date),
            coalesce(recent.last_seen_date, stored.last_seen_date)
        ) as last_seen_date

    from (
        select
            {{ entity_id }},
            first_seen_date,
            last_seen_date
        from {{ this }}
        where last_seen_date is not null
    ) as stored
    full outer join (
        select
            {{ entity_id }},
            min(observed_date) as first_seen_date,
            max(observed_date) as last_seen_date
        from {{ observations }}
        where observed_date >= {{ date_literal(since) }}
        group by {{ entity_id }}
    ) as recent
        on stored.{{ entity_id }} = recent.{{ entity_id }}
{%- endif -%}
{%- endmacro %}

{#
    The rows of `relation` (a dimension's `final` CTE) to write. A full build writes them all; an
    incremental run only those that differ from the stored row of their key (a new entity, a new
    day seen, an attribute fetched again, a name its artist or album changed), which the
    incremental strategy then replaces, so the table ends as a full build leaves it.
#}
{% macro changed_rows(relation) -%}
    select * from {{ relation }}
    {%- if is_incremental_run() %}
    except
    select * from {{ this }}
    {%- endif %}
{%- endmacro %}
