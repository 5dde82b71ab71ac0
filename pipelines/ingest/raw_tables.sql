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

-- ГИА rows of both layouts: the CSV layout gia/gia_<YYYY>.csv names the login; a РЦОИ list («ведомость»)
-- names the school's РЦОИ code (school_code), mapped to a login in dbt through raw.gia_school_codes.
create table if not exists raw.gia_results (
    year integer not null,
    exam_type varchar not null,
    subject_code integer not null,
    subject_name varchar,
    login varchar,                   -- CSV layout; NULL in a РЦОИ list
    participant_code varchar not null,
    primary_score integer,
    test_score integer,
    mark integer,
    min_score integer,               -- CSV «Минимальный балл»; list footer «Минимальная граница»
    percent_complete double,
    is_retake boolean,               -- CSV «Пересдача»; NULL in a list (a later list of the exam is the retake)
    form varchar,
    school_code varchar,             -- РЦОИ «Код ОО» (lists)
    exam_date date,                  -- lists: the date in the title row (the written part for two-part exams)
    class_name varchar,
    primary_score_oral integer,      -- two-part foreign-language exams
    primary_score_written integer,
    _source_file varchar not null, _sheet varchar, _row_number integer not null,
    _file_sha256 varchar not null, _loaded_at timestamp not null
);
-- A warehouse made before the РЦОИ lists were read gains their columns (appended: inserts name columns).
alter table raw.gia_results alter column login drop not null;
alter table raw.gia_results add column if not exists school_code varchar;
alter table raw.gia_results add column if not exists exam_date date;
alter table raw.gia_results add column if not exists class_name varchar;
alter table raw.gia_results add column if not exists primary_score_oral integer;
alter table raw.gia_results add column if not exists primary_score_written integer;

-- РЦОИ appeals lists (апелляции / перепроверки): the score before and after each change, kept as history;
-- stg_gia_results applies the latest change of each participant's exam.
create table if not exists raw.gia_appeals (
    year integer not null,
    exam_type varchar not null,
    subject_code integer not null,
    subject_name varchar,
    exam_date date,
    school_code varchar not null,
    class_name varchar,
    participant_code varchar not null,
    appeal_type varchar not null,
    appeal_state varchar,
    appeal_sent_at varchar,          -- as written: 02.07.2021 16:55:40
    appeal_changed_at varchar,
    score_before integer,
    primary_score_after integer,
    test_score_after integer,
    mark_after integer,
    score_difference integer,
    _source_file varchar not null, _sheet varchar, _row_number integer not null,
    _file_sha256 varchar not null, _loaded_at timestamp not null
);

-- The crosswalk registry/gia_school_codes.xlsx: a school's РЦОИ, ОГЭ and ЕГЭ codes in a year.
create table if not exists raw.gia_school_codes (
    year integer not null,
    login varchar not null,
    school_code varchar,
    oge_code varchar,
    ege_code varchar,
    school_name varchar,
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
