-- Raw tables of the working database: one per source, as loaded, with lineage columns.
-- The formats they come from are described in docs/inputs.md.
create schema if not exists raw;

create table if not exists raw.schools (
    login varchar not null,
    full_name varchar,
    short_name varchar,
    municipality varchar,
    settlement_type varchar,
    school_type varchar,
    enrolment integer,
    opened_year integer,
    _source_file varchar not null, _sheet varchar, _row_number integer not null,
    _file_sha256 varchar not null, _loaded_at timestamp not null
);

create table if not exists raw.login_aliases (
    alias_login varchar not null,    -- the login a school had in other files, e.g. sch220122
    login varchar not null,          -- its login in the registry, e.g. edu220122
    _source_file varchar not null, _sheet varchar, _row_number integer not null,
    _file_sha256 varchar not null, _loaded_at timestamp not null
);

create table if not exists raw.fioko_shnor (
    year integer not null,
    login varchar not null,
    school_name varchar,
    municipality varchar,
    level varchar,
    _source_file varchar not null, _sheet varchar, _row_number integer not null,
    _file_sha256 varchar not null, _loaded_at timestamp not null
);

create table if not exists raw.fioko_objectivity_markers (
    year integer not null,
    login varchar not null,
    municipality varchar,
    school_name varchar,
    marker_column varchar not null,  -- as in the file, e.g. '4 РУ'
    work_code varchar not null,      -- e.g. 'RU4'
    marker integer,                  -- 1, 0 or NULL (not assessed); NULL is not 0
    marker_count integer,
    _source_file varchar not null, _sheet varchar, _row_number integer not null,
    _file_sha256 varchar not null, _loaded_at timestamp not null
);

create table if not exists raw.fioko_risk_profiles (
    year integer not null,
    login varchar not null,
    school_name varchar,
    factor varchar not null,
    level varchar not null,
    _source_file varchar not null, _sheet varchar, _row_number integer not null,
    _file_sha256 varchar not null, _loaded_at timestamp not null
);

create table if not exists raw.vpr_results (
    year integer not null,
    login varchar not null,
    work_code varchar not null,
    subject_code varchar not null,
    grade integer not null,
    participant_code varchar not null,
    class_letter varchar,
    variant integer,
    sex varchar,
    task_scores integer[],           -- element NULL = not attempted ('X' or blank)
    task_max integer[],
    primary_score integer,
    mark integer,                    -- as in the file (report Ф1, Parquet); NULL: from the year's scale in dbt
    journal_mark integer,
    is_absent boolean not null,      -- variant «отсутствовал»: absent, not a participant
    layout varchar not null,         -- the layout of vpr_layouts.yml the file was read as, or 'parquet'
    _source_file varchar not null, _sheet varchar, _row_number integer not null,
    _file_sha256 varchar not null, _loaded_at timestamp not null
);

create table if not exists raw.gia_results (
    year integer not null,
    exam_type varchar not null,
    subject_code integer not null,
    subject_name varchar,
    login varchar not null,
    participant_code varchar not null,
    primary_score integer,
    test_score integer,
    mark integer,
    min_score integer,
    percent_complete double,
    is_retake boolean,
    form varchar,
    _source_file varchar not null, _sheet varchar, _row_number integer not null,
    _file_sha256 varchar not null, _loaded_at timestamp not null
);

create table if not exists raw.social_passport (
    year integer not null,
    login varchar not null,
    school_name varchar,
    students_total integer,
    students_disabled_health integer,
    children_with_disability integer,
    on_school_register integer,
    on_police_register integer,
    large_families integer,
    single_parent_families integer,
    single_parent_families_pct double,
    both_parents_higher_ed integer,
    one_parent_higher_ed integer,
    both_parents_unemployed integer,
    non_native_russian integer,
    school_bus integer,
    low_income_families integer,
    low_income_families_pct double,
    teachers_total integer,
    vacancies integer,
    teachers_higher_ped_ed integer,
    teachers_category integer,
    teachers_pension_age integer,
    teachers_upskilled_3y integer,
    weekly_load_hours double,
    _source_file varchar not null, _sheet varchar, _row_number integer not null,
    _file_sha256 varchar not null, _loaded_at timestamp not null
);

-- ФИС ОКО aggregated ВПР reports (vpr_reports/…): one row per file × group row × measure.
create table if not exists raw.vpr_report_counts (
    year integer not null,
    work_code varchar not null,
    subject_code varchar not null,
    grade integer not null,
    report varchar not null,          -- mark_statistics, journal_comparison, score_distribution
    report_title varchar,             -- as in the title block, e.g. 'Статистика по отметкам'
    report_date varchar,              -- «Дата:» as written
    max_primary_score integer not null,
    layout varchar not null,          -- hierarchical (ФИС ОКО report) or flattened (B3 export)
    group_level varchar not null,     -- all (Вся выборка), region, municipality, school
    group_name varchar not null,      -- as named, without its code in parentheses
    login varchar,                    -- school rows
    municipality_code varchar,        -- reg20_m012: municipality rows and the schools below them
    municipality varchar,
    schools integer,                  -- «Кол-во ОО»
    participants integer not null,    -- «Кол-во участников» (B2: «Кол-во участников(всего)»)
    measure varchar not null,         -- mark_2…mark_5, lowered/confirmed/raised, score_0…score_<max>
    measure_value integer,            -- the mark or the primary score of the measure
    percent double not null,          -- as written
    count integer,                    -- the file's count, or round(percent × participants / 100)
    count_in_file boolean not null,
    _source_file varchar not null, _sheet varchar, _row_number integer not null,
    _file_sha256 varchar not null, _loaded_at timestamp not null
);
