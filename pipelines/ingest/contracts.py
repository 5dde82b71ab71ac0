"""Contracts of the raw inputs: one pandera schema per source, the rules they enforce and how a failure reads.

A schema validates the frame a reader made of one or more files, before anything is written. Column
names are the raw-table columns; a column's `title` is its header in the file, so a failure can be
reported the way a person finds it: file, sheet, row, the header of the column, the value and the rule.

Rules have a severity. An *error* breaks the contract: the file is quarantined (or, with row-level
quarantine, the row is dropped). A *warning* is recorded beside the data, which is loaded anyway: a
share column that disagrees with its count (the count is what the pipeline uses), or a row that repeats
an earlier row word for word (FIOKO's published list of 2024 does).

Integer columns are validated as floats and checked to be whole numbers: a value such as 4,5 in a mark
column must be reported with its row, which a failed cast to an integer type does not do.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyarrow

ERROR, WARNING = "error", "warning"
SHARE_TOLERANCE_PP = 0.5  # percentage points between a share column and count / total × 100
SETTLEMENT_TYPES = ("город", "посёлок городского типа", "село")
SCHOOL_TYPES = (
    "НОШ",
    "ООШ",
    "СОШ",
    "СОШ с УИОП",
    "гимназия",
    "лицей",
    "вечерняя (сменная)",
    "интернат",
    "коррекционная",
)
SHNOR_LEVELS = ("Сильно неуспевающие", "Умеренно неуспевающие", "Базово неуспевающие")
RISK_LEVELS = ("высокий", "средний", "низкий", "отсутствует")
EXAM_TYPES = ("ОГЭ", "ЕГЭ", "ГВЭ")
GIA_FORMS = ("экзамен", "промежуточная аттестация")
SEXES = ("М", "Ж")
LOGIN_PATTERN = r"^[a-z]+\d+$"
MARKER_COLUMN = re.compile(r"^(\d{1,2}) (РУ|МА)$")
SUBJECT_OF_MARKER = {"РУ": "RU", "МА": "MA"}


@dataclass(frozen=True)
class Rule:
    """One rule of a contract: what it requires and how a failing cell is described to a person."""

    id: str
    requirement: str
    detail: Callable[[Any, Mapping[str, Any], str], str]  # (value, the failing row, column) -> text
    severity: str = ERROR

    def check(self, fn: Callable, *, column: str | None = None, element_wise: bool = False) -> pa.Check:
        """A pandera check for this rule; `column` names the cell a frame-wide check blames."""
        name = f"{self.id}@{column}" if column else self.id
        return pa.Check(fn, name=name, description=self.requirement, element_wise=element_wise)


RULES: dict[str, Rule] = {}


def rule(
    id: str, requirement: str, detail: Callable[[Any, Mapping[str, Any], str], str], severity: str = ERROR
) -> Rule:
    RULES[id] = Rule(id, requirement, detail, severity)
    return RULES[id]


def shown(value: Any) -> str:
    """A cell value as a person would type it: 4, 4,5, «abc», or empty."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return "empty"
    if isinstance(value, bool | np.bool_):
        return str(int(value))
    if isinstance(value, int | float | np.integer | np.floating):
        number = float(value)
        return str(int(number)) if number.is_integer() else f"{number:.10g}".replace(".", ",")
    return f"«{value}»"


def numbers(values: pd.Series) -> pd.Series:
    """Numeric view of a column; text that is not a number becomes NaN (reported by the type rule)."""
    return pd.to_numeric(values, errors="coerce")


def _within(low: float, high: float) -> Callable[[pd.Series], pd.Series]:
    def check(values: pd.Series) -> pd.Series:
        number = numbers(values)
        return number.between(low, high) | number.isna()

    return check


def _one_of(allowed: Iterable[str]) -> Callable[[pd.Series], pd.Series]:
    allowed = set(allowed)
    return lambda values: values.isin(allowed) | values.isna()


# Rules pandera itself enforces through the column types and nullability.
NUMBER = rule("number", "a number", lambda v, row, c: f"value {shown(v)} is not a number")
REQUIRED = rule("required", "not empty", lambda v, row, c: "the value is missing")

WHOLE_NUMBER = rule("whole_number", "a whole number", lambda v, row, c: f"value {shown(v)} is not a whole number")
NOT_NEGATIVE = rule("not_negative", "0 or more", lambda v, row, c: f"value {shown(v)} is negative")
MARK = rule("mark", "a mark 2–5", lambda v, row, c: f"value {shown(v)} is not a mark 2–5")
JOURNAL_MARK = rule(
    "journal_mark",
    "a mark 2–5, or empty when there is none",
    lambda v, row, c: f"value {shown(v)} is not a journal mark 2–5 (leave the cell empty when there is none)",
)
TEST_SCORE = rule(
    "test_score", "a test score 0–100", lambda v, row, c: f"value {shown(v)} is outside the test score range 0–100"
)
PERCENT = rule("percent", "a percentage 0–100", lambda v, row, c: f"value {shown(v)} is outside 0–100 %")
FLAG = rule("flag", "0 or 1", lambda v, row, c: f"value {shown(v)} is not 0 or 1")
MARKER = rule(
    "marker",
    "1, 0 or empty (empty: the work was not assessed for markers)",
    lambda v, row, c: f"value {shown(v)} is not a marker (1, 0 or empty)",
)
TASK_SCORE = rule(
    "task_score",
    "a score from 0 to the task maximum (in the task header or the seed vpr_tasks); X or empty when not attempted",
    lambda v, row, c: (
        f"value {shown(v)} is below 0"
        if float(v) < 0
        else f"value {shown(v)} exceeds the task maximum {shown(row['max'])}"
    ),
)
TOTAL_OF_TASKS = rule(
    "total_of_tasks",
    "the total primary score equals the sum of the task scores",
    lambda v, row, c: (
        f"total {shown(v)} differs from the sum of the task scores, "
        f"{shown(sum(s for s in row['task_scores'] if isinstance(s, float)))}"
    ),
)
MARK_OF_SCALE = rule(
    "mark_of_scale",
    "the ВПР mark follows from the primary score by the year's scale of the work (seed vpr_works)",
    lambda v, row, c: (
        f"mark {shown(v)} does not follow from the primary score {shown(row['primary_score'])}: the "
        f"scale of the year (cut scores for 3/4/5: {row['_scale_cuts']}) gives "
        f"{shown(_scale_mark(float(row['primary_score']), row['_scale_cuts']))}"
    ),
)
MARKER_COUNT = rule(
    "marker_count",
    "equals the sum of the marker columns",
    lambda v, row, c: f"value {shown(v)} differs from the sum of the marker columns, {shown(row['_marker_sum'])}",
)


def vocabulary(id: str, allowed: tuple[str, ...]) -> Rule:
    """A rule that a column holds one of a fixed list of values."""
    listed = ", ".join(allowed)
    return rule(id, f"one of: {listed}", lambda v, row, c: f"value {shown(v)} is not one of: {listed}")


KNOWN_SETTLEMENT_TYPE = vocabulary("settlement_type", SETTLEMENT_TYPES)
KNOWN_SCHOOL_TYPE = vocabulary("school_type", SCHOOL_TYPES)
KNOWN_SHNOR_LEVEL = vocabulary("shnor_level", SHNOR_LEVELS)
KNOWN_RISK_LEVEL = vocabulary("risk_level", RISK_LEVELS)
KNOWN_EXAM_TYPE = vocabulary("exam_type", EXAM_TYPES)
KNOWN_GIA_FORM = vocabulary("gia_form", GIA_FORMS)
KNOWN_SEX = vocabulary("sex", SEXES)
LOGIN_FORMAT = rule(
    "login_format",
    "letters then digits, e.g. sch860001 (stripped, lower case)",
    lambda v, row, c: f"value {shown(v)} is not a login such as sch860001",
)


def _login_detail(value: Any, row: Mapping[str, Any], column: str) -> str:
    same_digits = row.get("_same_digits")
    hint = (
        (
            f"; the registry has {same_digits} with the same digits: if it is one school whose login changed, "
            "confirm the pair in registry/login_aliases.xlsx (docs/inputs.md)"
        )
        if isinstance(same_digits, str)
        else ""
    )
    return f"login {shown(value)} is not in the school registry{hint}"


LOGIN_IN_REGISTRY = rule(
    "login_in_registry", "a login of the school registry (raw.schools) or a confirmed alias", _login_detail
)
YEAR_OF_FILE = rule(
    "year_of_file",
    "the year in the file name",
    lambda v, row, c: f"year {shown(v)} differs from the year in the file name, {shown(row['_file_year'])}",
)
YEAR_RANGE = rule(
    "year_range", "a year between 1800 and 2100", lambda v, row, c: f"value {shown(v)} is not a plausible year"
)


# Years later than possible. Results (ВПР, ГИА) and passports describe a year that has begun: at most the
# current calendar year. FIOKO publishes a year's lists (ШНОР, «500+», markers) ahead of it, in the autumn
# before: at most the next year. The current year is the machine's clock when the load runs.
def current_year() -> int:
    return dt.date.today().year


FUTURE_YEAR = rule(
    "future_year",
    "a year not later than the current one (results and passports)",
    lambda v, row, c: (
        f"year {shown(v)} is in the future: results and passports go up to the current year, {current_year()}"
    ),
)
FUTURE_LIST_YEAR = rule(
    "future_list_year",
    "a year not later than the next one (FIOKO lists are published ahead)",
    lambda v, row, c: (
        f"year {shown(v)} is too far in the future: a FIOKO list goes up to next year, {current_year() + 1}"
    ),
)


def not_future(rule_: Rule, ahead: int = 0) -> pa.Check:
    return rule_.check(lambda v: ~(numbers(v) > current_year() + ahead))


WITHIN_STUDENTS = rule(
    "within_students_total",
    "at most «Всего обучающихся»",
    lambda v, row, c: f"value {shown(v)} exceeds «Всего обучающихся» {shown(row['students_total'])}",
)
WITHIN_TEACHERS = rule(
    "within_teachers_total",
    "at most «Педагогов всего»",
    lambda v, row, c: f"value {shown(v)} exceeds «Педагогов всего» {shown(row['teachers_total'])}",
)
WEEKLY_LOAD = rule(
    "weekly_load", "hours a week between 0 and 60", lambda v, row, c: f"value {shown(v)} is not a weekly load in hours"
)


def _share_detail(value: Any, row: Mapping[str, Any], column: str) -> str:
    count_column = column.removesuffix("_pct")
    count, total = row[count_column], row["students_total"]
    implied = f" (it implies {shown(round(100 * count / value))} students)" if value and count else ""
    return (
        f"value {shown(value)} % does not match {shown(count)} / {shown(total)} = "
        f"{shown(round(100 * count / total, 1))} %{implied}"
    )


SHARE_OF_STUDENTS = rule(
    "share_matches_count",
    f"count / «Всего обучающихся» × 100 within {SHARE_TOLERANCE_PP} pp (a fraction 0–1 is read as a share)",
    _share_detail,
    severity=WARNING,
)
ONE_ROW_PER_KEY = rule(
    "one_row_per_key",
    "one row per key",
    lambda v, row, c: f"a second row for {row['_key_text']}; the first is {row['_first_seen']}",
)
CONFLICTING_ROW = rule(
    "conflicting_row",
    "one row per key; a repeated row must be identical to the first",
    lambda v, row, c: f"a second row for {row['_key_text']} with different values; the first is {row['_first_seen']}",
)
LOADED_ELSEWHERE = rule(
    "loaded_elsewhere",
    "one row per key, across the files of the source",
    lambda v, row, c: f"{row['_key_text']} is already loaded from {row['_first_seen']}",
)
CONTRADICTS_FILE = rule(
    "contradicts_file",
    "a row for a key another file already holds says the same (FIOKO lists)",
    lambda v, row, c: str(v),
)
EMPTIES_SOURCE = rule(
    "empties_source",
    "a new version of a file keeps rows, or is marked «<file>.intentionally-empty»",
    lambda v, row, c: str(v),
)
REPEATED_ROW = rule(
    "repeated_row",
    "a row is not repeated",
    lambda v, row, c: f"repeats {row['_first_same']} word for word (kept; count it once)",
    severity=WARNING,
)


# --------------------------------------------------------------------------------------------------
# Column builders. `sql_type` is the raw-table type, shown in the Dagster UI.


def text(
    title: str,
    *checks: pa.Check,
    nullable: bool = True,
    required: bool = True,
    description: str | None = None,
    aliases: tuple[str, ...] = (),
) -> pa.Column:
    """A text column; `aliases` are other headers the same column arrives under."""
    return pa.Column(
        str,
        checks=list(checks),
        nullable=nullable,
        required=required,
        title=title,
        description=description,
        metadata={"sql_type": "varchar", "aliases": aliases},
    )


def integer(
    title: str, *checks: pa.Check, nullable: bool = True, required: bool = True, description: str | None = None
) -> pa.Column:
    whole = WHOLE_NUMBER.check(lambda v: (numbers(v) % 1 == 0) | numbers(v).isna())
    return pa.Column(
        float,
        checks=[whole, *checks],
        nullable=nullable,
        required=required,
        coerce=True,
        title=title,
        description=description,
        metadata={"sql_type": "integer"},
    )


def decimal(
    title: str, *checks: pa.Check, nullable: bool = True, required: bool = True, description: str | None = None
) -> pa.Column:
    return pa.Column(
        float,
        checks=list(checks),
        nullable=nullable,
        required=required,
        coerce=True,
        title=title,
        description=description,
        metadata={"sql_type": "double"},
    )


def derived(dtype: Any, sql_type: str, description: str, *checks: pa.Check) -> pa.Column:
    """A column taken from the file's name or place, not from a cell."""
    return pa.Column(
        dtype,
        checks=list(checks),
        nullable=False,
        coerce=True,
        title=None,
        description=description,
        metadata={"sql_type": sql_type, "derived": True},
    )


def known(rule_: Rule, allowed: tuple[str, ...]) -> pa.Check:
    return rule_.check(_one_of(allowed))


def login_column(known_logins: frozenset[str] | None, title: str | None = "Логин") -> pa.Column:
    """The school login, from a column or (title None) from the file name; checked against the registry."""
    checks = [] if known_logins is None else [LOGIN_IN_REGISTRY.check(_one_of(known_logins))]
    if title is None:
        return derived(str, "varchar", "ФИС ОКО login, from the file name, lower-cased", *checks)
    return text(title, *checks, nullable=False, description="ФИС ОКО login, stripped and lower-cased")


def not_negative() -> pa.Check:
    return NOT_NEGATIVE.check(lambda v: (numbers(v) >= 0) | numbers(v).isna())


def within(total: str, rule_: Rule, column: str) -> pa.Check:
    return rule_.check(lambda df: ~(numbers(df[column]) > numbers(df[total])), column=column)


def share_check(column: str) -> pa.Check:
    """Share column vs its count: percent (36,7) or fraction (0,28) of `students_total`."""
    count = column.removesuffix("_pct")

    def consistent(df: pd.DataFrame) -> pd.Series:
        comparable = numbers(df[column]).notna() & numbers(df[count]).notna() & (numbers(df["students_total"]) > 0)
        return share_as_percent(df[column], df[count], df["students_total"]).notna() | ~comparable

    return SHARE_OF_STUDENTS.check(consistent, column=column)


def share_as_percent(share: pd.Series, count: pd.Series, total: pd.Series) -> pd.Series:
    """The share in percent when it agrees with count / total (as a percent or as a fraction), else NaN."""
    share, expected = numbers(share), 100 * numbers(count) / numbers(total)
    as_percent = (share - expected).abs() <= SHARE_TOLERANCE_PP
    as_fraction = (share <= 1) & ((100 * share - expected).abs() <= SHARE_TOLERANCE_PP)
    return share.where(as_percent, (100 * share).round(6).where(as_fraction))


def year_of_file() -> pa.Check:
    return YEAR_OF_FILE.check(
        lambda df: (numbers(df["year"]) == df["_file_year"]) | numbers(df["year"]).isna(), column="year"
    )


def one_row_per(key: list[str]) -> pa.Check:
    """Any second row for a key is an error (participant rows: a repeat would count twice)."""
    return ONE_ROW_PER_KEY.check(lambda df: ~df.duplicated(key, keep="first"))


def repeats_identical(key: list[str]) -> list[pa.Check]:
    """A second row for a key is an error unless it repeats the first word for word (then a warning)."""

    def content(df: pd.DataFrame) -> list[str]:
        return [c for c in df.columns if not c.startswith("_")]

    return [
        CONFLICTING_ROW.check(
            lambda df: ~(df.duplicated(key, keep="first") & ~df.duplicated(content(df), keep="first"))
        ),
        REPEATED_ROW.check(lambda df: ~df.duplicated(content(df), keep="first")),
    ]


def schema(
    name: str, columns: dict[str, pa.Column], checks: list[pa.Check], *, key: list[str], cell_column: str | None = None
) -> pa.DataFrameSchema:
    """A source's schema; `key` identifies a row, `cell_column` takes its header from the row's `_column`."""
    return pa.DataFrameSchema(
        columns, checks=checks, name=name, strict=False, metadata={"key": key, "cell_column": cell_column}
    )


# --------------------------------------------------------------------------------------------------
# The contracts.


def schools_contract() -> pa.DataFrameSchema:
    """The registry; it may be as thin as `логин | имя | регион`: what it lacks stays unknown."""
    return schema(
        "raw.schools",
        {
            "login": text(
                "Логин",
                LOGIN_FORMAT.check(lambda v: re.fullmatch(LOGIN_PATTERN, v) is not None, element_wise=True),
                nullable=False,
                description="ФИС ОКО login, the key of every source",
            ),
            "full_name": text(
                "Полное наименование", required=False, aliases=("имя", "Наименование ОО", "Наименование")
            ),
            "short_name": text("Краткое наименование", required=False),
            "municipality": text("Муниципалитет", required=False, aliases=("регион", "Район", "Муниципальный район")),
            "settlement_type": text(
                "Тип населённого пункта", known(KNOWN_SETTLEMENT_TYPE, SETTLEMENT_TYPES), required=False
            ),
            "school_type": text("Тип ОО", known(KNOWN_SCHOOL_TYPE, SCHOOL_TYPES), required=False),
            "enrolment": integer(
                "Контингент", not_negative(), description="students on the registry date", required=False
            ),
            "opened_year": integer("Год открытия", YEAR_RANGE.check(_within(1800, 2100)), required=False),
        },
        repeats_identical(["login"]),
        key=["login"],
    )


def login_aliases_contract(known_logins: frozenset[str] | None) -> pa.DataFrameSchema:
    """Confirmed pairs of a school's earlier login and its login in the registry (`sch220122` → `edu220122`)."""
    return schema(
        "raw.login_aliases",
        {
            "alias_login": text(
                "Прежний логин",
                LOGIN_FORMAT.check(lambda v: re.fullmatch(LOGIN_PATTERN, v) is not None, element_wise=True),
                nullable=False,
                description="the login the school had in other files",
            ),
            "login": login_column(known_logins),
        },
        repeats_identical(["alias_login"]),
        key=["alias_login"],
    )


def shnor_contract(known_logins: frozenset[str] | None) -> pa.DataFrameSchema:
    return schema(
        "raw.fioko_shnor",
        {
            "year": integer("Год", not_future(FUTURE_LIST_YEAR, 1), nullable=False, description="year of the list"),
            "login": login_column(known_logins),
            "school_name": text("Наименование ОО", required=False),
            "municipality": text("Муниципалитет", required=False),
            "level": text(
                "Уровень результатов",
                known(KNOWN_SHNOR_LEVEL, SHNOR_LEVELS),
                nullable=False,
                description="FIOKO's level",
            ),
        },
        [year_of_file(), *repeats_identical(["year", "login"])],
        key=["year", "login"],
    )


def objectivity_markers_contract(known_logins: frozenset[str] | None) -> pa.DataFrameSchema:
    """Validated in long form, one row per school × year × marker column, as the raw table keeps it."""

    def count_is_sum(df: pd.DataFrame) -> pd.Series:
        return (numbers(df["marker_count"]) == df["_marker_sum"]) | numbers(df["marker_count"]).isna()

    return schema(
        "raw.fioko_objectivity_markers",
        {
            "year": integer("Год", not_future(FUTURE_LIST_YEAR, 1), nullable=False),
            "login": login_column(known_logins),
            "municipality": text("Муниципалитет", required=False),
            "school_name": text("ОО", required=False),
            "marker_column": derived(str, "varchar", "the marker column's header, e.g. «4 РУ»"),
            "work_code": derived(str, "varchar", "ВПР work of the marker column, e.g. RU4"),
            "marker": integer(
                "<класс> <РУ|МА>",
                MARKER.check(lambda v: v in (0, 1), element_wise=True),
                description="1 marker set, 0 not set, NULL not assessed (NULL is not 0)",
            ),
            "marker_count": integer("Количество маркеров", nullable=False),
        },
        [
            MARKER_COUNT.check(count_is_sum, column="marker_count"),
            *repeats_identical(["year", "login", "marker_column"]),
        ],
        key=["year", "login", "marker_column"],
        cell_column="marker",
    )


def risk_profiles_contract(known_logins: frozenset[str] | None) -> pa.DataFrameSchema:
    return schema(
        "raw.fioko_risk_profiles",
        {
            "year": integer("Год", not_future(FUTURE_LIST_YEAR, 1), nullable=False),
            "login": login_column(known_logins),
            "school_name": text("Наименование ОО", required=False),
            "factor": text(
                "Фактор риска", nullable=False, description="versioned by year in the dbt seed risk_factors"
            ),
            "level": text("Уровень риска", known(KNOWN_RISK_LEVEL, RISK_LEVELS), nullable=False),
        },
        [year_of_file(), *repeats_identical(["year", "login", "factor"])],
        key=["year", "login", "factor"],
    )


PASSPORT_STUDENT_COUNTS = {
    "students_disabled_health": "ОВЗ",
    "children_with_disability": "Дети-инвалиды",
    "on_school_register": "На внутришкольном учёте",
    "on_police_register": "На учёте в ПДН, КДН и ЗП",
    "large_families": "Из многодетных семей",
    "single_parent_families": "Из неполных семей",
    "both_parents_higher_ed": "Оба родителя с высшим образованием",
    "one_parent_higher_ed": "Один родитель с высшим образованием",
    "both_parents_unemployed": "Оба родителя безработные",
    "non_native_russian": "Русский язык не родной",
    "school_bus": "Подвоз",
    "low_income_families": "Малоимущие семьи",
}
PASSPORT_SHARES = {
    "single_parent_families_pct": "Из неполных семей, %",
    "low_income_families_pct": "Малоимущие семьи, %",
}
PASSPORT_TEACHER_COUNTS = {
    "teachers_higher_ped_ed": "С высшим педагогическим образованием",
    "teachers_category": "С первой и высшей категорией",
    "teachers_pension_age": "Пенсионного возраста",
    "teachers_upskilled_3y": "Прошли КПК за 3 года",
}


def social_passport_contract(known_logins: frozenset[str] | None) -> pa.DataFrameSchema:
    columns = {
        "year": derived(int, "integer", "year of the passport, from the file name", not_future(FUTURE_YEAR)),
        "login": login_column(known_logins),
        "school_name": text("Наименование ОО", required=False),
        "students_total": integer("Всего обучающихся", not_negative(), nullable=False, description="the denominator"),
    }
    checks = [*repeats_identical(["year", "login"])]
    for column, title in PASSPORT_STUDENT_COUNTS.items():
        columns[column] = integer(title, not_negative())
        checks.append(within("students_total", WITHIN_STUDENTS, column))
    for column, title in PASSPORT_SHARES.items():
        columns[column] = decimal(title, description="percent of students; a fraction 0–1 is converted to percent")
        checks.append(share_check(column))
    columns["teachers_total"] = integer("Педагогов всего", not_negative())
    columns["vacancies"] = integer("Вакансии", not_negative())
    for column, title in PASSPORT_TEACHER_COUNTS.items():
        columns[column] = integer(title, not_negative())
        checks.append(within("teachers_total", WITHIN_TEACHERS, column))
    columns["weekly_load_hours"] = decimal("Средняя недельная нагрузка", WEEKLY_LOAD.check(_within(0, 60)))
    return schema("raw.social_passport", columns, checks, key=["year", "login"])


VPR_KEY = ["year", "login", "work_code", "participant_code"]
PARTICIPANT_CODE = "pseudonymous; a salted hash when PARTICIPANT_CODE_SALT is set"


def vpr_results_contract(known_logins: frozenset[str] | None) -> pa.DataFrameSchema:
    """Participant rows of every ВПР layout (`vpr_layouts.yml`); task scores are validated cell by cell by
    `VPR_TASK_SCORES`. Titles are the headers of the ФИС ОКО protocol form; a message quotes the header of
    the file it is about."""
    return schema(
        "raw.vpr_results",
        {
            "year": derived(
                int,
                "integer",
                "year of the work: the folder vpr/<YYYY>/, checked against a title",
                not_future(FUTURE_YEAR),
            ),
            "login": login_column(known_logins, title="Логин"),
            "work_code": derived(str, "varchar", "work: RU4, MA5, …, from the title, sheet name or file name"),
            "subject_code": derived(str, "varchar", "RU, MA, …"),
            "grade": derived(int, "integer", "grade of the work"),
            "layout": derived(str, "varchar", "the layout the file was recognised as (vpr_layouts.yml)"),
            "participant_code": text("Код", nullable=False, description=PARTICIPANT_CODE),
            "is_absent": derived(bool, "boolean", "the pupil was absent (variant «отсутствовал»): not a participant"),
            "class_letter": text("Класс", required=False, description="as typed, upper-cased; NULL for «нет»"),
            "variant": integer("Вариант", required=False),
            "task_scores": pa.Column(
                object,
                nullable=True,
                title=None,
                metadata={"sql_type": "integer[]"},
                description="score per task (NULL: not attempted, see vpr_layouts.yml); each " + TASK_SCORE.requirement,
            ),
            "task_max": pa.Column(
                object,
                nullable=False,
                title=None,
                metadata={"sql_type": "integer[]"},
                description="maximum per task, from the task header «3 (2б)» or the seed vpr_tasks",
            ),
            "primary_score": integer("Итого баллов", not_negative()),
            "mark": integer(
                "Отметка",
                MARK.check(_within(2, 5)),
                required=False,
                description="the ВПР mark where the file carries one (report Ф1); otherwise NULL and "
                "computed from the year's scale in dbt",
            ),
            "journal_mark": integer(
                "Отметка за предыдущий триместр/ четверть/полугодие", JOURNAL_MARK.check(_within(2, 5)), required=False
            ),
            "sex": text("Пол", known(KNOWN_SEX, SEXES), required=False),
        },
        [
            one_row_per(VPR_KEY),
            TOTAL_OF_TASKS.check(_total_is_sum, column="primary_score"),
            MARK_OF_SCALE.check(_mark_follows_scale, column="mark"),
        ],
        key=VPR_KEY,
    )


def _scale_mark(score: Any, cuts: Any) -> float | None:
    if not isinstance(cuts, str) or not isinstance(score, int | float) or math.isnan(score):
        return None
    return float(2 + sum(score >= int(cut) for cut in cuts.split("/")))


def _mark_follows_scale(df: pd.DataFrame) -> pd.Series:
    if "_scale_cuts" not in df:
        return pd.Series(True, index=df.index)
    mark = numbers(df["mark"])
    expected = pd.Series(
        [_scale_mark(s, c) for s, c in zip(numbers(df["primary_score"]), df["_scale_cuts"])],
        index=df.index,
        dtype=float,
    )
    return (mark == expected) | mark.isna() | expected.isna() | ~mark.between(2, 5)


def _total_is_sum(df: pd.DataFrame) -> pd.Series:
    total = numbers(df["primary_score"])
    tasks = df["task_scores"].map(lambda scores: sum(s for s in scores if isinstance(s, float)))
    return (total == tasks) | total.isna() | df["is_absent"].astype(bool)


def _score_within_max(df: pd.DataFrame) -> pd.Series:
    score = numbers(df["score"])
    return score.between(0, df["max"]) | score.isna()


VPR_TASK_SCORES = schema(
    "ВПР task scores",
    {
        "score": decimal("<номер задания>", WHOLE_NUMBER.check(lambda v: (numbers(v) % 1 == 0) | numbers(v).isna())),
        "max": pa.Column(float, nullable=False, coerce=True, title="максимум задания"),
    },
    [TASK_SCORE.check(_score_within_max, column="score")],
    key=[],
    cell_column="score",
)

REPORT_LEVELS = ("all", "region", "municipality", "school")


def _report_rounding_detail(value: Any, row: Mapping[str, Any], column: str) -> str:
    total, tolerance = shown(row["_counts_sum"]), shown(round(float(row["_tolerance"]), 1))
    if row["_exact_sum"]:
        return (
            f"the percentages {row['_percents']} of {shown(value)} participants give {total} pupils, not "
            f"{shown(value)} (more than {tolerance} apart)"
        )
    return f"the counts add up to {total} pupils, more than the row's {shown(value)} participants"


REPORT_ROUNDING = rule(
    "report_rounding",
    "a report row's counts (percentage × «Кол-во участников») add up to its participants within one pupil "
    "(for large groups, within the rounding of its percentages); «Сравнение отметок»: at most its participants",
    _report_rounding_detail,
)
REPORT_PERCENT_OF_COUNT = rule(
    "report_percent_of_count",
    "a percentage agrees with its count / the pupils compared × 100",
    lambda v, row, c: (
        f"value {shown(v)} % does not match {shown(row['count'])} of {shown(row['_compared'])} = "
        f"{shown(round(100 * row['count'] / row['_compared'], 2)) if row['_compared'] else 'empty'} %"
    ),
)


def _rounding_holds(df: pd.DataFrame) -> pd.Series:
    total, n, tolerance = numbers(df["_counts_sum"]), numbers(df["participants"]), numbers(df["_tolerance"])
    exact = df["_exact_sum"].astype(bool)
    holds = ((total - n).abs() <= tolerance).where(exact, total <= n + tolerance)
    return holds | total.isna() | n.isna()


def _percent_matches_count(df: pd.DataFrame) -> pd.Series:
    percent, count, compared = numbers(df["percent"]), numbers(df["count"]), numbers(df["_compared"])
    tolerance = (0.5 * 0.01 * compared / 100).clip(lower=1)
    holds = (percent * compared / 100 - count).abs() <= tolerance
    return holds | ~df["count_in_file"].astype(bool) | percent.isna() | count.isna() | ~(compared > 0)


def _optional(dtype: Any, sql_type: str, description: str) -> pa.Column:
    """A column the reader derives from the title block or the hierarchy, which may be empty."""
    return pa.Column(
        dtype,
        nullable=True,
        coerce=True,
        title=None,
        description=description,
        metadata={"sql_type": sql_type, "derived": True},
    )


def vpr_reports_contract(known_logins: frozenset[str] | None) -> pa.DataFrameSchema:
    """ФИС ОКО aggregated reports (B1–B3), one row per group row × measure; percentages cell by cell."""
    registry = [] if known_logins is None else [LOGIN_IN_REGISTRY.check(_one_of(known_logins))]
    return schema(
        "raw.vpr_report_counts",
        {
            "year": derived(int, "integer", "year of the work: the title «ВПР <год> …» or the column «Год»"),
            "work_code": derived(
                str, "varchar", "work: RU4, MA5, … from the title, sheet name or columns «Предмет», «Класс»"
            ),
            "subject_code": derived(str, "varchar", "RU, MA, …"),
            "grade": derived(int, "integer", "grade of the work"),
            "report": derived(
                str, "varchar", "mark_statistics, journal_comparison or score_distribution (by its columns)"
            ),
            "report_title": _optional(str, "varchar", "the report's name in its title block, as written"),
            "report_date": _optional(str, "varchar", "«Дата:» of the title block, as written"),
            "max_primary_score": derived(int, "integer", "the work's maximum, checked against the seed vpr_works"),
            "layout": derived(str, "varchar", "hierarchical (ФИС ОКО report) or flattened (B3 export)"),
            "group_level": derived(str, "varchar", "all (Вся выборка), region, municipality or school"),
            "group_name": text("Группы участников", nullable=False, description="the group as named, without its code"),
            "login": text(
                "Логин", *registry, description="school rows: the login in «…(edu203389)» or the column «Логин»"
            ),
            "municipality_code": _optional(
                str, "varchar", "«reg20_m012» of a municipality row, and of the schools below it"
            ),
            "municipality": text("Муниципалитет", required=False, description="the municipality's name"),
            "schools": integer("Кол-во ОО", not_negative(), required=False),
            "participants": integer("Кол-во участников", not_negative(), nullable=False),
            "measure": derived(str, "varchar", "mark_2…mark_5, lowered/confirmed/raised, or score_0…score_<max>"),
            "measure_value": _optional(float, "integer", "the mark or primary score of the measure"),
            "percent": decimal(
                "<процент>",
                PERCENT.check(_within(0, 100)),
                nullable=False,
                description="percent of the row's participants, as written",
            ),
            "count": integer(
                "<кол-во>",
                not_negative(),
                description="pupils: the count in the file (Сравнение отметок), else round(percent × "
                "participants / 100)",
            ),
            "count_in_file": derived(bool, "boolean", "the count is the file's, not derived from the percentage"),
        },
        [
            REPORT_ROUNDING.check(_rounding_holds, column="participants"),
            REPORT_PERCENT_OF_COUNT.check(_percent_matches_count, column="percent"),
        ],
        key=[],
        cell_column="percent",
    )


GIA_KEY = ["year", "exam_type", "subject_code", "participant_code", "is_retake"]


def gia_results_contract(known_logins: frozenset[str] | None) -> pa.DataFrameSchema:
    return schema(
        "raw.gia_results",
        {
            "year": integer("Год", not_future(FUTURE_YEAR), nullable=False),
            "exam_type": text("Тип экзамена", known(KNOWN_EXAM_TYPE, EXAM_TYPES), nullable=False),
            "subject_code": integer(
                "Код предмета",
                nullable=False,
                description="РЦОИ code: 1 Russian, 2 maths (ЕГЭ profile), 22 ЕГЭ base maths",
            ),
            "subject_name": text("Предмет"),
            "login": login_column(known_logins, "Логин ОО"),
            "participant_code": text("Код участника", nullable=False, description=PARTICIPANT_CODE),
            "primary_score": integer("Первичный балл", not_negative()),
            "test_score": integer("Тестовый балл", TEST_SCORE.check(_within(0, 100)), description="ЕГЭ only"),
            "mark": integer("Отметка", MARK.check(_within(2, 5)), description="ОГЭ, ГВЭ and ЕГЭ base maths"),
            "min_score": integer(
                "Минимальный балл", not_negative(), description="the year's minimum test score (base maths: mark 3)"
            ),
            "percent_complete": decimal("Процент выполнения", PERCENT.check(_within(0, 100))),
            "is_retake": integer(
                "Пересдача", FLAG.check(_one_of({0, 1})), description="1 for a retake; stored as boolean"
            ),
            "form": text(
                "Форма",
                known(KNOWN_GIA_FORM, GIA_FORMS),
                description="«промежуточная аттестация»: 2020 ОГЭ replaced by school marks",
            ),
        },
        [year_of_file(), one_row_per(GIA_KEY)],
        key=GIA_KEY,
    )


# РЦОИ result lists («ведомости», gia_lists.py): rows identified by the school's РЦОИ code, mapped to a
# login through the crosswalk in dbt (stg_gia_results), so a list whose code is not mapped yet keeps its rows.
GIA_LIST_KEY = ["participant_code"]  # within one list; across lists: year, exam, subject, date, participant
SCHOOL_CODE_PATTERN = r"^\d{1,12}$"
GIA_EXAM_TYPE = rule(
    "gia_exam_type",
    "a list whose exam type (ОГЭ, ЕГЭ, ГВЭ) can be told from its title, subject code or columns",
    lambda v, row, c: str(v),
)
GIA_TITLE = rule("gia_title", "a title row «<код> - <предмет> <дата>» above the header", lambda v, row, c: str(v))
PARTICIPANT_KEY = rule(
    "participant_key",
    "a key in PARTICIPANT_CODE_SALT to derive participant codes from documents",
    lambda v, row, c: str(v),
)
NO_DOCUMENT = rule(
    "no_document",
    "a document (series and number) for every participant",
    lambda v, row, c: "the document is missing: the participant cannot be given a code",
)
GIA_MINIMUM = rule(
    "gia_minimum",
    "«Минимальная граница» equals the configured minimum (seed gia_min_scores)",
    lambda v, row, c: str(v),
    severity=WARNING,
)
GIA_FOOTER_COUNT = rule(
    "gia_participants_total",
    "«Всего участников» equals the number of participant rows",
    lambda v, row, c: str(v),
    severity=WARNING,
)
SCHOOL_CODE_FORMAT = rule(
    "school_code_format",
    "a РЦОИ school code: digits only, e.g. 111001",
    lambda v, row, c: f"value {shown(v)} is not a РЦОИ school code such as 111001",
)
CODE_MAPPED_TWICE = rule(
    "code_mapped_twice",
    "a code maps to one login per year",
    lambda v, row, c: f"code {shown(v)} is mapped to another login of the same year as well",
)
LIST_PARTICIPANT = "HMAC-SHA256 of the document (series and number) keyed by PARTICIPANT_CODE_SALT; names never read"


def _school_code() -> pa.Check:
    return SCHOOL_CODE_FORMAT.check(lambda v: re.fullmatch(SCHOOL_CODE_PATTERN, v) is not None, element_wise=True)


def gia_list_contract(known_logins: frozenset[str] | None = None) -> pa.DataFrameSchema:
    """One participant row of a РЦОИ list; personal columns never reach it (the reader drops them)."""
    return schema(
        "raw.gia_results (ведомость)",
        {
            "school_code": text("Код ОО", _school_code(), nullable=False, description="РЦОИ code of the school"),
            "class_name": text("Класс", required=False),
            "participant_code": text("Документ", nullable=False, description=LIST_PARTICIPANT),
            "primary_score": integer("Первичный балл", not_negative()),
            "primary_score_oral": integer("Первичный балл устной части", not_negative(), required=False),
            "primary_score_written": integer("Первичный балл письм. части", not_negative(), required=False),
            "test_score": integer("Балл", TEST_SCORE.check(_within(0, 100)), required=False),
            "mark": integer("Оценка", MARK.check(_within(2, 5)), required=False),
            "percent_complete": decimal("Процент выполнения", PERCENT.check(_within(0, 100)), required=False),
        },
        [],
        key=GIA_LIST_KEY,
    )


def gia_appeals_contract(known_logins: frozenset[str] | None = None) -> pa.DataFrameSchema:
    """One appeal (апелляция / перепроверка) of a РЦОИ appeals list."""
    return schema(
        "raw.gia_appeals",
        {
            "school_code": text("Код ОО", _school_code(), nullable=False),
            "class_name": text("Класс", required=False),
            "participant_code": text("Документ", nullable=False, description=LIST_PARTICIPANT),
            "appeal_type": text("Тип апелляции / перепроверки", nullable=False),
            "appeal_state": text("Состояние"),
            "appeal_sent_at": text("Дата отправки на обработку", required=False),
            "appeal_changed_at": text("Дата изменений", required=False),
            "score_before": integer("Балл до изменения", not_negative()),
            "primary_score_after": integer("Текущие: Первичный балл", not_negative(), required=False),
            "test_score_after": integer("Текущие: Балл", TEST_SCORE.check(_within(0, 100)), required=False),
            "mark_after": integer("Текущие: Оценка", MARK.check(_within(2, 5)), required=False),
            "score_difference": integer("Разница", required=False),
        },
        [],
        key=["participant_code"],
    )


def _one_login_per_code(df: pd.DataFrame) -> pd.Series:
    code = df["school_code"]
    clash = df.assign(_code=code).dropna(subset=["_code"]).groupby(["year", "_code"])["login"].transform("nunique") > 1
    return ~clash.reindex(df.index, fill_value=False)


def gia_school_codes_contract(known_logins: frozenset[str] | None) -> pa.DataFrameSchema:
    """The crosswalk `registry/gia_school_codes.xlsx`: a school's РЦОИ, ОГЭ and ЕГЭ codes in a year."""
    return schema(
        "raw.gia_school_codes",
        {
            "year": integer("Год", YEAR_RANGE.check(_within(1800, 2100)), nullable=False),
            "login": login_column(known_logins),
            "school_code": text("Код ОО", _school_code(), description="РЦОИ «Код ОО» of the school in the year"),
            "oge_code": text("Код ОГЭ", _school_code(), required=False, description="code of the school in ОГЭ lists"),
            "ege_code": text("Код ЕГЭ", _school_code(), required=False, description="code of the school in ЕГЭ lists"),
            "school_name": text("Наименование ОО", required=False),
        },
        [CODE_MAPPED_TWICE.check(_one_login_per_code, column="school_code"), *repeats_identical(["year", "login"])],
        key=["year", "login"],
    )


def contract(source: str, known_logins: frozenset[str] | None = None) -> pa.DataFrameSchema:
    """The contract of a source; without `known_logins` the registry rule is left out."""
    if source == "schools":
        return schools_contract()
    return CONTRACTS[source](known_logins)


ARROW_TEXT = pd.ArrowDtype(pyarrow.string())


def batch_contract(schema_: pa.DataFrameSchema) -> pa.DataFrameSchema:
    """The contract for one batch of a file read in batches, whose text columns arrive as Arrow strings.

    Its one-row-per-key rule looks across batches, so it is checked over the whole file in SQL instead
    (`staged.duplicate_key_sql`). Text columns are declared as Arrow strings, which pandera checks by dtype
    rather than value by value as it does for Python objects, and which match a vocabulary (`isin`) in Arrow.
    """
    batch = schema_.update_columns(
        {
            name: {"dtype": ARROW_TEXT}
            for name, column in schema_.columns.items()
            if column.metadata["sql_type"] == "varchar"
        }
    )
    batch.checks = [check for check in schema_.checks if check.name != ONE_ROW_PER_KEY.id]
    batch.metadata = {**schema_.metadata, "key": []}
    return batch


# Rules that compare rows of different files besides the one-row-per-key rule: a source with one of them is
# checked in one piece, never in chunks of files (`load.check_files`).
ACROSS_FILES = frozenset({CONFLICTING_ROW.id, REPEATED_ROW.id, CODE_MAPPED_TWICE.id})


def checked_in_chunks(schema_: pa.DataFrameSchema) -> bool:
    """Whether chunks of whole files can be checked apart, with only the key checked across them."""
    return not any(check.name in ACROSS_FILES for check in schema_.checks)


def key_rule_only(schema_: pa.DataFrameSchema) -> pa.DataFrameSchema:
    """The contract's one-row-per-key rule alone, over columns that are described but not checked again."""
    columns = {
        name: pa.Column(None, nullable=True, required=False, title=column.title, metadata=column.metadata)
        for name, column in schema_.columns.items()
    }
    key = [check for check in schema_.checks if check.name == ONE_ROW_PER_KEY.id]
    return pa.DataFrameSchema(columns, checks=key, name=schema_.name, strict=False, metadata=schema_.metadata)


@functools.cache
def reading_contract(source: str) -> pa.DataFrameSchema:
    """The contract without the registry rule, built once: readers only need its columns."""
    return contract(source)


CONTRACTS: dict[str, Callable[[frozenset[str] | None], pa.DataFrameSchema]] = {
    "login_aliases": login_aliases_contract,
    "fioko_shnor": shnor_contract,
    "fioko_objectivity_markers": objectivity_markers_contract,
    "fioko_risk_profiles": risk_profiles_contract,
    "vpr_results": vpr_results_contract,
    "gia_results": gia_results_contract,
    "gia_school_codes": gia_school_codes_contract,
    "social_passport": social_passport_contract,
    "vpr_report_counts": vpr_reports_contract,
}


def headers(schema_: pa.DataFrameSchema) -> dict[str, str]:
    """Column header in the file → raw column, for the columns read from cells (titles first, then aliases)."""
    read = [
        (name, column)
        for name, column in schema_.columns.items()
        if column.title and not column.metadata.get("derived") and name != schema_.metadata["cell_column"]
    ]
    titles = {column.title: name for name, column in read}
    aliases = {alias: name for name, column in read for alias in column.metadata.get("aliases", ())}
    return {**aliases, **titles}


def required_headers(schema_: pa.DataFrameSchema) -> list[str]:
    return [column.title for column in schema_.columns.values() if column.title in headers(schema_) and column.required]


def marker_work_code(marker_column: str) -> str | None:
    """`4 РУ` → `RU4`; None when the header is not a marker column."""
    match = MARKER_COLUMN.match(marker_column)
    return f"{SUBJECT_OF_MARKER[match[2]]}{int(match[1])}" if match else None
