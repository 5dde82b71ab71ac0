"""ГИА results: a CSV file streamed into DuckDB batch by batch, each batch checked by the pandera contract.

A federal year has millions of rows, so the file is never held whole, in pandas or in Python lists:
`csv_reader` yields batches of about 250,000 rows, each is validated with the ГИА contract and appended
through Arrow to a temporary table. The rules that look across rows are SQL over that table
(`staged.py`): a second row for a key of the file, and a key already loaded from another file. The good
rows go into raw.gia_results with one INSERT … SELECT when the load commits.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow

from pipelines.ingest import store
from pipelines.ingest.contracts import (
    ERROR,
    GIA_KEY,
    LOADED_ELSEWHERE,
    ONE_ROW_PER_KEY,
    batch_contract,
    contract,
    shown,
)
from pipelines.ingest.csv_reader import csv_batches, csv_header, csv_layout, typed_batch
from pipelines.ingest.readers import column_positions, year_in_name
from pipelines.ingest.staged import (
    StagedFile,
    count_rows,
    duplicate_key_sql,
    loaded_elsewhere_sql,
    record_failures,
    stored_code_sql,
    temp_name,
)
from pipelines.ingest.validate import Issue, Validation, location, validate

SOURCE = "gia_results"
FIRST_HEADER = "Год"
STAGED_TYPES = {"varchar": "varchar", "integer": "double", "double": "double"}  # numbers as read, cast on insert


def check_gia_csv(
    con,
    file: str,
    path: Path,
    known_logins: frozenset[str] | None,
    salt: str | None,
    row_level: bool,
    loaded_at: dt.datetime,
) -> StagedFile:
    """Stages and checks a ГИА CSV file; raises ReadError when it cannot be read as one."""
    file_year = year_in_name(file, r"gia/gia_(\d{4})\.csv", "gia/gia_<YYYY>.csv")
    layout = csv_layout(path)
    header = csv_header(path, layout, FIRST_HEADER)
    schema = contract(SOURCE, known_logins)
    positions = column_positions(header.headers, header.line, schema)
    stage, view, failures, rejected = (temp_name(f"gia_{part}") for part in ("stage", "rows", "failures", "rejected"))

    def drop(connection) -> None:
        connection.execute(f"drop view if exists {view}")
        for table in (stage, failures, rejected):
            connection.execute(f"drop table if exists {table}")

    validation, checked_per_batch = Validation(), batch_contract(schema)
    columns = ", ".join(
        f"{name} {STAGED_TYPES[column.metadata['sql_type']]}" for name, column in schema.columns.items()
    )
    con.execute(f"create temp table {stage} ({columns}, _row_number bigint)")
    try:
        for batch in csv_batches(path, layout, header):
            typed = typed_batch(batch, positions, schema)
            frame = typed.frame.assign(
                _source_file=file, _sheet=None, _row_number=batch.row_numbers, _file_year=file_year
            )
            validation.add_batch(validate(frame, checked_per_batch, SOURCE))
            _append(con, stage, pyarrow.table({**typed.arrays, "_row_number": batch.row_numbers}))
    except BaseException:
        drop(con)
        raise
    raw_types = dict(store.raw_columns(con, SOURCE))
    code = stored_code_sql(salt)
    typed_columns = ", ".join(
        f"try_cast({name} as {raw_types[name]}) as {name}" for name in schema.columns if name != "participant_code"
    )
    # Checks against loaded rows compare values as they will be stored, salted codes included.
    con.execute(
        f"create temp view {view} as select {typed_columns}, {code} as participant_code, _row_number from {stage}"
    )
    con.execute(f"create temp table {failures} as {duplicate_key_sql(view, GIA_KEY, None, 'null')}")
    _reject(con, rejected, failures, validation, file)
    if row_level or not (validation.errors[file] or count_rows(con, failures)):
        con.execute(
            f"insert into {failures} "
            + loaded_elsewhere_sql(
                view,
                SOURCE,
                {c: c for c in GIA_KEY},
                file,
                None,
                f"p._row_number not in (select _row_number from {rejected})",
            )
        )
        con.execute(f"insert into {rejected} select _row_number from {failures} where rule = '{LOADED_ELSEWHERE.id}'")
    record_failures(
        con,
        failures,
        file,
        validation,
        f"""
        select f._row_number, f.rule, f.value, f.ref, {", ".join(f"v.{c}" for c in GIA_KEY)}
        from {failures} f join {view} v using (_row_number) order by f._row_number, f.rule""",
        lambda failure: _key_issue(file, schema, *failure),
    )
    rows = count_rows(con, stage)
    rejected_rows = (
        rows
        if file in validation.rejected_files
        else con.execute(f"select count(distinct _row_number) from {rejected}").fetchall()[0][0]
    )
    # Columns of the РЦОИ lists (school_code, exam_date, …) are not in this layout: they stay NULL.
    stored = [name for name in raw_types if not name.startswith("_") and name in schema.columns]

    def insert(connection) -> None:
        connection.execute(
            f"""
            insert into raw.{SOURCE} ({", ".join(stored)}, _source_file, _sheet, _row_number, _file_sha256, _loaded_at)
            select {", ".join(stored)}, ?, null, _row_number, ?, ?
            from {view} where _row_number not in (select _row_number from {rejected})""",
            [file, layout.sha256, loaded_at],
        )

    return StagedFile(layout.sha256, validation, rows, rejected_rows, insert, drop)


def _append(con, stage: str, rows: pyarrow.Table) -> None:
    with store.registered(con, _gia_batch=rows):
        con.execute(f"insert into {stage} select * from _gia_batch")


def _reject(con, rejected: str, failures: str, validation: Validation, file: str) -> None:
    """The rows left out: those the contract rejected in their batch, and those failing the SQL rules."""
    rows = pyarrow.table(
        {"_row_number": pyarrow.array(sorted(row for f, row in validation.rejected_rows if f == file), pyarrow.int64())}
    )
    with store.registered(con, _gia_rejected=rows):
        con.execute(
            f"create temp table {rejected} as select _row_number from _gia_rejected "
            f"union select _row_number from {failures}"
        )


def _key_issue(
    file: str, schema, row_number: int, rule_id: str, other_file: str | None, other_row: int, *key: object
) -> Issue:
    """A row whose key was seen before: earlier in the file, or in another file already loaded."""
    key_text = ", ".join(f"{schema.columns[c].title} {shown(v)}" for c, v in zip(GIA_KEY, key))
    if rule_id == ONE_ROW_PER_KEY.id:
        detail = ONE_ROW_PER_KEY.detail(None, {"_key_text": key_text, "_first_seen": f"line {other_row}"}, None)
    else:
        detail = LOADED_ELSEWHERE.detail(
            None, {"_key_text": key_text, "_first_seen": location(other_file, None, other_row, None)}, None
        )
    return Issue(
        SOURCE,
        file,
        None,
        row_number,
        None,
        None,
        rule_id,
        ERROR,
        f"{location(file, None, row_number, None)}: {detail}",
    )
