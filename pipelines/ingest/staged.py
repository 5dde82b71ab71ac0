"""Files checked while DuckDB holds them: a ВПР Parquet year read in place, a ГИА CSV staged batch by batch.

Rules that need the whole file (one row per key) or the raw table (a key already loaded from another file)
are SQL queries for the rows that break them, written to a temporary failures table (row, rule, column,
value, reference). Issues are described from it up to the per-file cap; the file's good rows are later
inserted with one INSERT … SELECT in the load's transaction.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

from pipelines.common import sql_literal as literal
from pipelines.ingest.contracts import LOADED_ELSEWHERE, ONE_ROW_PER_KEY
from pipelines.ingest.validate import ISSUES_PER_FILE, Issue, Validation

FAILURE_COLUMNS = "_row_number, rule, col, value, ref"
_names = itertools.count()


def stored_code_sql(salt: str | None) -> str:
    """The participant code as it will be stored: salted and hashed like reading.pseudonymised when a salt is set."""
    return "participant_code" if salt is None else f"substr(sha256({literal(salt)} || participant_code), 1, 16)"


def count_rows(con, relation: str) -> int:
    [(count,)] = con.execute(f"select count(*) from {relation}").fetchall()
    return count


def temp_name(prefix: str) -> str:
    """A fresh name for a temporary view or table of one file."""
    return f"_{prefix}_{next(_names)}"


@dataclass
class StagedFile:
    """The outcome of checking one staged file, and how to insert its good rows later."""

    sha256: str
    validation: Validation
    rows: int
    rejected_rows: int
    insert: Callable[[object], None]
    drop: Callable[[object], None]


def duplicate_key_sql(view: str, key: list[str], column: str | None, value: str) -> str:
    """Rows whose key an earlier row of the file already has; `ref` is that earlier row.

    Keys seen more than once are found by aggregation first, so only their rows are sorted.
    """
    column_sql = "null::varchar" if column is None else literal(column)
    listed = ", ".join(key)
    same_key = " and ".join(f"v.{k} is not distinct from d.{k}" for k in key)
    return f"""
        select _row_number, '{ONE_ROW_PER_KEY.id}' as rule, {column_sql} as col, cast({value} as varchar) as value,
               first_row as ref
        from (select *, first_value(_row_number) over (partition by {listed} order by _row_number) as first_row
              from {view} v
              where exists (select 1 from (select {listed} from {view} group by all having count(*) > 1) d
                            where {same_key}))
        where _row_number <> first_row"""


def loaded_elsewhere_sql(
    view: str, raw_table: str, on: dict[str, str], file: str, column: str | None, rows_checked: str = "true"
) -> str:
    """Rows whose key is in the raw table from another file; `value` is that file and `ref` its row.

    `on` pairs the raw table's key columns with expressions over the file's view (as they would be stored).
    """
    column_sql = "null::varchar" if column is None else literal(column)
    condition = " and ".join(f"r.{raw} = p.{expression}" for raw, expression in on.items())
    return f"""
        select p._row_number, '{LOADED_ELSEWHERE.id}' as rule, {column_sql} as col, r._source_file as value,
               r._row_number as ref
        from {view} p join raw.{raw_table} r on {condition}
        where r._source_file <> {literal(file)} and ({rows_checked})"""


def record_failures(
    con, failures: str, file: str, validation: Validation, described: str, describe: Callable[[tuple], Issue]
) -> None:
    """Describes the failures (up to the per-file cap) and counts every one of them for the file.

    `described` is a query of the failures table (it may join the file for context) ordered as the issues
    should be listed; `describe` turns one of its rows into an issue.
    """
    shown = con.execute(f"{described} limit {ISSUES_PER_FILE}").fetchall()
    for row in shown:
        validation.add_issue(describe(row))
    validation.errors[file] += count_rows(con, failures) - len(shown)
