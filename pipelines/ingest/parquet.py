"""ВПР at federal scale: `vpr/vpr_<YYYY>.parquet` is checked and loaded by DuckDB, never held in pandas.

The file already has the raw table's columns, so its contract is the ВПР contract written as SQL: each
rule is a query for the rows that break it. Failures go to a temporary table (row, rule, column, value),
from which the issues are described (up to the per-file cap) and, with row-level quarantine, the rows
left out of the INSERT … SELECT.
"""

from __future__ import annotations

import datetime as dt
import re

from pipelines.ingest import contracts as c
from pipelines.ingest.readers import FILE_NAME, MISSING_COLUMN, UNREADABLE, ReadError
from pipelines.ingest.staged import (
    FAILURE_COLUMNS,
    StagedFile,
    count_rows,
    duplicate_key_sql,
    literal,
    loaded_elsewhere_sql,
    record_failures,
    stored_code_sql,
    temp_name,
)
from pipelines.ingest.validate import Issue, Validation, location

FILE_PATTERN = re.compile(r"vpr/vpr_(\d{4})\.parquet")
COLUMNS = (
    "year",
    "login",
    "work_code",
    "subject_code",
    "grade",
    "participant_code",
    "class_letter",
    "variant",
    "sex",
    "task_scores",
    "task_max",
    "primary_score",
    "mark",
    "journal_mark",
)
INTEGER = r"U?(TINYINT|SMALLINT|INTEGER|BIGINT)"
EXPECTED_TYPES = {
    "year": INTEGER,
    "grade": INTEGER,
    "variant": INTEGER,
    "primary_score": INTEGER,
    "mark": INTEGER,
    "journal_mark": INTEGER,
    "task_scores": INTEGER + r"\[\]",
    "task_max": INTEGER + r"\[\]",
}
COLUMN_TYPE = c.rule("column_type", "the column types of the raw table", lambda v, row, col: str(v))
TASK_LISTS = c.rule(
    "task_lists",
    "as many task scores as task maxima",
    lambda v, row, col: "the row has a different number of task scores and task maxima",
)


def _rule_queries(file_year: int, check_logins: bool) -> list[tuple[str, str, str, str]]:
    """(rule, column, value, condition) of the row rules; the value and condition are SQL over the file."""
    queries = [
        (c.REQUIRED.id, "participant_code", "null", "participant_code is null"),
        (c.REQUIRED.id, "mark", "null", "mark is null"),
        (c.MARK.id, "mark", "mark", "mark not between 2 and 5"),
        (c.JOURNAL_MARK.id, "journal_mark", "journal_mark", "journal_mark not between 2 and 5"),
        (c.NOT_NEGATIVE.id, "primary_score", "primary_score", "primary_score < 0"),
        (c.KNOWN_SEX.id, "sex", "sex", "sex not in ('М', 'Ж')"),
        (c.YEAR_OF_FILE.id, "year", "year", f"year is distinct from {file_year}"),
        (TASK_LISTS.id, "task_scores", "null", "len(task_scores) is distinct from len(task_max)"),
    ]
    if check_logins:
        queries.append((c.LOGIN_IN_REGISTRY.id, "login", "_login", "_login not in (select login from raw.schools)"))
    return queries


def _failures_sql(view: str, file: str, file_year: int, check_logins: bool) -> str:
    rows = [
        f"select _row_number, '{rule}' as rule, '{column}' as col, cast({value} as varchar) as value, "
        f"null::bigint as ref from {view} where {condition}"
        for rule, column, value, condition in _rule_queries(file_year, check_logins)
    ]
    rows.append(f"""
        select _row_number, '{c.TASK_SCORE.id}', 'task_scores[' || i || ']', cast(score as varchar), task_max
        from (select _row_number, unnest(range(1, len(task_scores) + 1)) as i, unnest(task_scores) as score,
                     unnest(task_max) as task_max
              from {view} where len(task_scores) = len(task_max))
        where score < 0 or score > task_max""")
    rows.append(
        duplicate_key_sql(
            view, ["year", "_login", "work_code", "participant_code"], "participant_code", "participant_code"
        )
    )
    rows.append(
        loaded_elsewhere_sql(
            view,
            "vpr_results",
            {"year": "year", "login": "_login", "work_code": "work_code", "participant_code": "_code"},
            file,
            "participant_code",
        )
    )
    return "\nunion all\n".join(rows)


def _detail(rule_id: str, column: str, value: str | None, ref: int | None, file_year: int) -> str:
    """The rule's message; `ref` is the task maximum, or the row (and `value` the file) a key was first seen in."""
    if rule_id == c.LOADED_ELSEWHERE.id:
        row = {"_key_text": "the same participant and work", "_first_seen": location(value, None, ref, None)}
        return c.LOADED_ELSEWHERE.detail(None, row, column)
    textual = rule_id in (c.KNOWN_SEX.id, c.LOGIN_IN_REGISTRY.id, c.ONE_ROW_PER_KEY.id)
    shown_value = value if textual or value is None else float(value)
    row = {
        "max": ref,
        "_file_year": file_year,
        "_key_text": f"Код участника {c.shown(value)}",
        "_first_seen": f"row {ref}",
    }
    return c.RULES[rule_id].detail(shown_value, row, column)


def check_parquet(
    con,
    file: str,
    path: str,
    sha256: str,
    known_logins: frozenset[str] | None,
    salt: str | None,
    loaded_at: dt.datetime,
) -> StagedFile:
    """Checks a ВПР Parquet file in SQL; raises ReadError when it is not a readable ВПР file."""
    match = FILE_PATTERN.fullmatch(file)
    if not match:
        raise ReadError(FILE_NAME.id, "the file name should be vpr/vpr_<YYYY>.parquet")
    file_year = int(match[1])
    try:
        present = dict(
            con.execute(
                f"select column_name, column_type from (describe select * from read_parquet({literal(path)}))"
            ).fetchall()
        )
    except Exception as error:  # DuckDB reports a damaged Parquet file with several error types
        raise ReadError(UNREADABLE.id, f"cannot be read as a Parquet file ({type(error).__name__}: {error})") from error
    missing = [column for column in COLUMNS if column not in present]
    if missing:
        raise ReadError(MISSING_COLUMN.id, f"has no column {', '.join(missing)}")
    mistyped = [
        f"{column} is {type_}"
        for column, type_ in present.items()
        if column in COLUMNS and not re.fullmatch(EXPECTED_TYPES.get(column, "VARCHAR"), type_)
    ]
    if mistyped:
        raise ReadError(
            COLUMN_TYPE.id,
            f"has columns of the wrong type: {', '.join(mistyped)} (see the raw table vpr_results in docs/inputs.md)",
        )
    view, failures = temp_name("vpr_parquet"), temp_name("vpr_failures")
    # The code as it will be stored: checks against loaded rows compare stored codes.
    code = stored_code_sql(salt)
    con.execute(f"""create or replace temp view {view} as
        select *, lower(trim(login)) as _login, {code} as _code, file_row_number + 1 as _row_number
        from read_parquet({literal(path)}, file_row_number = true)""")
    failing_rows = _failures_sql(view, file, file_year, known_logins is not None)
    con.execute(f"create or replace temp table {failures} as {failing_rows}")

    validation = Validation()

    def describe(failure: tuple) -> Issue:
        row_number, rule_id, column, value, ref = failure
        return Issue(
            "vpr_results",
            file,
            None,
            row_number,
            column,
            value,
            rule_id,
            c.ERROR,
            f"{location(file, None, row_number, column)}: {_detail(rule_id, column, value, ref, file_year)}",
        )

    record_failures(
        con,
        failures,
        file,
        validation,
        f"select {FAILURE_COLUMNS} from {failures} order by _row_number, rule",
        describe,
    )
    rows = count_rows(con, view)
    [(rejected,)] = con.execute(f"select count(distinct _row_number) from {failures}").fetchall()

    def insert(connection) -> None:
        connection.execute(
            f"""
            insert into raw.vpr_results
            select year, _login, work_code, subject_code, grade, _code, class_letter, variant, sex,
                   cast(task_scores as integer[]), cast(task_max as integer[]), primary_score, mark, journal_mark,
                   false, 'parquet', ?, null, _row_number, ?, ?
            from {view} where _row_number not in (select _row_number from {failures})""",
            [file, sha256, loaded_at],
        )

    def drop(connection) -> None:
        connection.execute(f"drop view if exists {view}")
        connection.execute(f"drop table if exists {failures}")

    return StagedFile(sha256, validation, rows, rejected, insert, drop)
