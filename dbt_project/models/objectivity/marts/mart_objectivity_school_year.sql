-- School × year summary of the objectivity signs: how many works were assessed, which signs and works
-- are flagged, and the review status of the school (any flag pending → «на проверке»; otherwise any
-- confirmed → «подтверждено»; all dismissed → «снято»).
with

flags as (

    select * from {{ ref('mart_objectivity_flags') }}

),

schools as (

    select * from {{ ref('stg_schools') }}

),

summary as (

    select
        year,
        login,
        count(distinct work_code) filter (where work_code <> 'ALL') as works_assessed,
        count(*) filter (where flagged) as flags,
        string_agg(distinct work_code, ', ' order by work_code) filter (where flagged) as works_flagged,
        string_agg(distinct sign_name, '; ' order by sign_name) filter (where flagged) as signs_flagged,
        bool_or(flagged) as flagged,
        case
            when not bool_or(flagged) then null
            when bool_or(status = 'на проверке') then 'на проверке'
            when bool_or(status = 'подтверждено') then 'подтверждено'
            else 'снято'
        end as status
    from flags
    group by year, login

),

final as (

    select
        summary.year,
        summary.login,
        schools.short_name as school_name,
        schools.municipality,
        schools.school_type,
        summary.works_assessed,
        summary.flags,
        summary.works_flagged,
        summary.signs_flagged,
        summary.flagged,
        summary.status
    from summary
    left join schools
        on summary.login = schools.login

)

select * from final
