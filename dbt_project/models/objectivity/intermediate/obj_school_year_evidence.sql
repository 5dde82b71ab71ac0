-- The flagging rule: one hypothesis per school × year × sign that can flag on its own (role standalone),
-- its evidence pooled over the school's ВПР works of the year, and the false discovery rate controlled
-- over the region's schools and signs of the year (Benjamini & Hochberg 1995).
--
-- Pooling: small schools rarely give one significant work, but an anomaly that touches several works
-- leaves weak evidence in each. The works' z-scores are combined two ways (seed objectivity_pooling,
-- `combination`): Stouffer's weighted sum (weights 1 / total_se: the most powerful for a shift common to
-- the works) and the largest z with Šidák's correction for the number of works (for one strongly
-- affected work); `stouffer_and_max` takes the better of the two, Bonferroni-corrected for the choice.
-- A school's works are not independent (its journal practice, its ОГЭ standing and its intake are shared
-- by all of them), so the Stouffer sum is divided by its spread among the region's schools: with
-- correlation ρ between a school's works, Var = 1 + ρ·((Σw)² − Σw²)/Σw², and ρ is estimated robustly
-- from the region's schools of the year.
with

tests as (

    select * from {{ ref('obj_sign_tests') }}

),

thresholds as (

    select * from {{ ref('objectivity_thresholds') }}

),

pooling as (

    select * from {{ ref('objectivity_pooling') }}

),

standalone_tests as (

    select tests.*
    from tests
    inner join thresholds
        on tests.sign = thresholds.sign and tests.year between thresholds.year_from and thresholds.year_to
    where thresholds.role = 'standalone'

),

pooled as (

    select
        year, login, region_code, sign,
        count(*) as works,
        sum(n) as participants,
        sum(z_score / total_se) / sqrt(sum(1.0 / (total_se * total_se))) as stouffer_z,
        (sum(1.0 / total_se) * sum(1.0 / total_se) - sum(1.0 / (total_se * total_se)))
            / sum(1.0 / (total_se * total_se)) as shared_pairs,
        max(z_score) as max_z
    from standalone_tests
    group by year, login, region_code, sign

),

spreads as (

    select
        year, region_code, sign,
        {{ median_of('stouffer_z') }} as centre,
        {{ median_of('shared_pairs') }} as median_shared_pairs
    from pooled
    where works > 1
    group by year, region_code, sign

),

deviations as (

    select
        pooled.year, pooled.region_code, pooled.sign,
        {{ median_of('abs(pooled.stouffer_z - spreads.centre)') }} as median_absolute_deviation
    from pooled
    inner join spreads
        on pooled.year = spreads.year and pooled.region_code = spreads.region_code and pooled.sign = spreads.sign
    where pooled.works > 1
    group by pooled.year, pooled.region_code, pooled.sign

),

correlations as (

    select
        spreads.year, spreads.region_code, spreads.sign,
        case when spreads.median_shared_pairs > 0 then greatest(
            0, ((1.4826 * deviations.median_absolute_deviation) ^ 2 - 1) / spreads.median_shared_pairs
        ) else 0 end as within_school_correlation
    from spreads
    inner join deviations
        on spreads.year = deviations.year and spreads.region_code = deviations.region_code
        and spreads.sign = deviations.sign

),

tails as (

    select
        pooled.year, pooled.login, pooled.region_code, pooled.sign, pooled.works, pooled.participants,
        pooled.stouffer_z / sqrt(1 + coalesce(correlations.within_school_correlation, 0) * pooled.shared_pairs) as pooled_z,
        pooled.max_z,
        {{ normal_upper_tail('pooled.stouffer_z / sqrt(1 + coalesce(correlations.within_school_correlation, 0) * pooled.shared_pairs)') }} as stouffer_p,
        {{ normal_upper_tail('pooled.max_z') }} as max_p
    from pooled
    left join correlations
        on pooled.year = correlations.year and pooled.region_code = correlations.region_code
        and pooled.sign = correlations.sign

),

combined as (

    select
        tails.*,
        pooling.fdr_level,
        -- Šidák: the chance that the largest of `works` independent z-scores is this large; k·p where
        -- 1 − (1 − p)^k loses its digits.
        case when tails.max_p < 1e-9 then tails.works * tails.max_p
            else 1 - power(1 - tails.max_p, tails.works) end as max_p_adjusted,
        pooling.combination
    from tails
    inner join pooling
        on tails.year between pooling.year_from and pooling.year_to

),

p_values as (

    select
        year, login, region_code, sign, works, participants, pooled_z, max_z, fdr_level,
        case combination
            when 'stouffer' then stouffer_p
            when 'max' then max_p_adjusted
            else least(1.0, 2 * least(stouffer_p, max_p_adjusted))
        end as p_value
    from combined

),

ranked as (

    select
        p_values.*,
        row_number() over (partition by year, region_code order by p_value, login, sign) as p_rank,
        count(*) over (partition by year, region_code) as hypotheses
    from p_values

),

-- The Benjamini–Hochberg adjusted p-value (q-value): the smallest p·m / rank at this rank or above.
adjusted as (

    select
        ranked.*,
        least(1.0, min(p_value * hypotheses / p_rank) over (
            partition by year, region_code order by p_rank desc rows between unbounded preceding and current row
        )) as q_value
    from ranked

),

final as (

    select
        year, login, region_code, sign, works, participants, pooled_z, max_z, p_value, q_value,
        hypotheses, fdr_level,
        q_value <= fdr_level as is_discovery
    from adjusted

)

select * from final
