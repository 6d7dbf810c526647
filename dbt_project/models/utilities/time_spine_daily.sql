{#
    One row per UTC day from 2008-01-01 (Spotify opened that year; a privacy export can reach
    back that far) through 2039-12-31: MetricFlow's daily time spine, for cumulative metrics,
    offsets and days without data. Plain SQL rather than dbt.date_spine, which asks the warehouse
    for the number of days at compile time and so cannot compile offline (the Snowflake and Athena
    checks); 10^5 offsets cover the 11,688 days.
#}

with

digits as (

    select 0 as digit
    union all
    select 1
    union all
    select 2
    union all
    select 3
    union all
    select 4
    union all
    select 5
    union all
    select 6
    union all
    select 7
    union all
    select 8
    union all
    select 9

),

day_offsets as (

    select
        ones.digit
        + 10 * tens.digit
        + 100 * hundreds.digit
        + 1000 * thousands.digit
        + 10000 * ten_thousands.digit as day_offset

    from digits as ones
    cross join digits as tens
    cross join digits as hundreds
    cross join digits as thousands
    cross join digits as ten_thousands

),

days as (

    select
        cast({{ dbt.dateadd('day', 'day_offset', "cast('2008-01-01' as date)") }} as date) as date_day

    from day_offsets

),

final as (

    select date_day
    from days
    where date_day <= cast('2039-12-31' as date)

)

select * from final
