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

import numpy as np
import pandas as pd
import pyarrow as pa

from pipelines.common import sql_literal as literal
from pipelines.ingest import store
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


class StagedRows:
    """The checked rows of a load's spreadsheet files, held by DuckDB chunk by chunk until the load commits.

    Each checked chunk comes as Arrow tables (reading.CheckedFiles): its rows that may be written go to a
    temporary table, and the first row of each of its keys to another, so that a key repeated in a later
    chunk's file is found without the run's process keeping the earlier chunks. The load's transaction
    inserts the rows of the files that loaded with one INSERT … SELECT.
    """

    def __init__(self, source: str, columns: list[tuple[str, str]], key: list[str]):
        self.source, self.columns, self.key = source, columns, key
        self.rows, self.keys = temp_name("staged_rows"), temp_name("staged_keys")
        self.chunks = 0

    def add(self, con, rows: pa.Table | None, keys: pa.Table | None) -> None:
        """Stages one chunk: its rows to write, and the first row of each of its keys."""
        if rows is None:
            return
        number, self.chunks = self.chunks, self.chunks + 1
        self._append(con, self.rows, rows)
        if keys is not None:
            keys = keys.append_column("_chunk", pa.array(np.full(len(keys), number, np.int32)))
            self._append(con, self.keys, keys.append_column("_order", pa.array(np.arange(len(keys)))))

    @staticmethod
    def _append(con, table: str, rows: pa.Table) -> None:
        with store.registered(con, _chunk_rows=rows):
            con.execute(f"create temp table if not exists {table} as select * from _chunk_rows limit 0")
            con.execute(f"insert into {table} select * from _chunk_rows")

    def repeated_across_chunks(self, con) -> pd.DataFrame:
        """The first rows of each key in the chunks that have it, for keys that more than one chunk has."""
        if not self.key or self.chunks < 2:  # each chunk checked its own repeats
            return pd.DataFrame()
        listed = ", ".join(self.key)
        same_key = " and ".join(f"k.{c} is not distinct from r.{c}" for c in self.key)
        return con.execute(f"""
            select k.* exclude (_chunk, _order) from {self.keys} k
            where exists (select 1 from (select {listed} from {self.keys} group by all having count(*) > 1) r
                          where {same_key})
            order by k._chunk, k._order""").df()

    def in_other_files(self, con, key: list[str], columns: list[str], condition: str = "true") -> list[tuple]:
        """(file, sheet, row of the staged row, file and row of the raw row, *columns) for every staged row whose
        key the raw table has from a file this load does not replace; `r.` names the raw row, `k.` the staged."""
        if not self.chunks:
            return []
        return con.execute(f"""
            select k._source_file, k._sheet, k._row_number, r._source_file, r._row_number, {", ".join(columns)}
            from {self.rows} k join raw.{self.source} r using ({", ".join(key)})
            where r._source_file not in (select distinct _source_file from {self.rows}) and ({condition})
            order by k._source_file, k._row_number""").fetchall()

    def drop_rows(self, con, rows: pd.DataFrame) -> None:
        """Takes the given (_source_file, _row_number) out of the rows to write."""
        with store.registered(con, _dropped_rows=rows[["_source_file", "_row_number"]]):
            con.execute(
                f"delete from {self.rows} r using _dropped_rows d "
                "where r._source_file = d._source_file and r._row_number = d._row_number"
            )

    def rows_of(self, con, files: list[str]) -> pd.DataFrame:
        """(_source_file, _row_number) of the staged rows of these files."""
        return con.execute(
            f"select _source_file, _row_number from {self.rows} where list_contains(?, _source_file)", [files]
        ).df()

    def written_per_file(self, con) -> dict[str, int]:
        if not self.chunks:
            return {}
        return dict(con.execute(f"select _source_file, count(*) from {self.rows} group by all").fetchall())

    def insert(self, con, files: list[str], loaded_at) -> None:
        """Inserts the staged rows of `files` into the raw table (inside the load's transaction)."""
        if not self.chunks or not files:
            return
        names = ", ".join(name for name, _ in self.columns)
        con.execute(
            f"insert into raw.{self.source} ({names}, _loaded_at) "
            f"select {names}, ? from {self.rows} where list_contains(?, _source_file)",
            [loaded_at, files],
        )

    def drop(self, con) -> None:
        for table in (self.rows, self.keys):
            con.execute(f"drop table if exists {table}")
