"""The working database side of ingestion: raw and ops tables, file versions, and one transaction per load.

Rows are written in bulk: a validated frame becomes one Arrow table with the raw table's types, which is
inserted with a single INSERT … SELECT. A file's rows are replaced (delete by `_source_file`, insert) in
the same transaction as its bookkeeping, so a failed run leaves the database as it was.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa

from pipelines.ingest.contracts import numbers
from pipelines.ingest.validate import Issue

RAW_DDL = Path(__file__).with_name("raw_tables.sql")
OPS_DDL = Path(__file__).with_name("ops_tables.sql")
LOADED, QUARANTINED, REPLACED = "loaded", "quarantined", "replaced"
ARROW_TYPES = {"VARCHAR": pa.string(), "INTEGER": pa.int64(), "DOUBLE": pa.float64(), "BOOLEAN": pa.bool_()}


def ensure_tables(con) -> None:
    con.execute(RAW_DDL.read_text())
    con.execute(OPS_DDL.read_text())


def raw_columns(con, source: str) -> list[tuple[str, str]]:
    """(name, type) of the raw table's columns, in order; `_loaded_at` is set by the insert itself."""
    rows = con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = 'raw' and table_name = ? order by ordinal_position",
        [source],
    ).fetchall()
    return [(name, type_) for name, type_ in rows if name != "_loaded_at"]


@dataclass(frozen=True)
class FileVersion:
    """A version of a landing file as ops.loaded_files remembers it."""

    file: str
    sha256: str
    status: str
    size_bytes: int
    modified_ns: int
    registry_sha256: str | None
    row_level_quarantine: bool
    loaded_at: dt.datetime


def file_versions(con, source: str) -> dict[str, list[FileVersion]]:
    """Versions not yet replaced, newest first, by file."""
    rows = con.execute(
        "select file, sha256, status, size_bytes, modified_ns, registry_sha256, row_level_quarantine, loaded_at "
        "from ops.loaded_files where source = ? and status <> 'replaced' order by loaded_at desc",
        [source],
    ).fetchall()
    versions: dict[str, list[FileVersion]] = {}
    for row in rows:
        versions.setdefault(row[0], []).append(FileVersion(*row))
    return versions


def registry_logins(con) -> frozenset[str] | None:
    """Logins of the loaded registry; None when no registry has been loaded (the login rule is skipped)."""
    logins = con.execute("select distinct login from raw.schools").fetchall()
    return frozenset(login for (login,) in logins) if logins else None


def known_logins(con) -> frozenset[str] | None:
    """Logins of the registry and the confirmed earlier logins of its schools."""
    registry = registry_logins(con)
    if registry is None:
        return None
    aliases = con.execute("select alias_login from raw.login_aliases where login in (select login from raw.schools)")
    return registry | frozenset(alias for (alias,) in aliases.fetchall())


def same_digits(logins: frozenset[str]) -> dict[str, str]:
    """Registry logins by their digits, where the digits name one login: what a changed login is proposed as."""
    by_digits: dict[str, list[str]] = {}
    for login in logins:
        by_digits.setdefault("".join(filter(str.isdigit, login)), []).append(login)
    return {digits: found[0] for digits, found in by_digits.items() if len(found) == 1}


def registry_fingerprint(con) -> str | None:
    """Identifies the registry version the logins were checked against: its files' sha256."""
    [(shas,)] = con.execute(
        "select list_sort(list(distinct _file_sha256)) from (select _file_sha256 from raw.schools "
        "union all select _file_sha256 from raw.login_aliases)"
    ).fetchall()
    return ",".join(shas) if shas else None


def arrow_rows(frame: pd.DataFrame, columns: list[tuple[str, str]]) -> pa.Table:
    """The validated frame with exactly the raw table's columns and types."""
    arrays = []
    for name, sql_type in columns:
        values = frame[name]
        if sql_type == "VARCHAR":
            arrays.append(pa.array(values.astype(object).where(values.notna(), None).tolist(), type=pa.string()))
        elif sql_type == "INTEGER[]":
            arrays.append(pa.array(values.tolist(), type=pa.list_(pa.float64())).cast(pa.list_(pa.int64())))
        else:
            arrays.append(pa.array(numbers(values), from_pandas=True, type=pa.float64()).cast(ARROW_TYPES[sql_type]))
    return pa.Table.from_arrays(arrays, names=[name for name, _ in columns])


@dataclass
class FileOutcome:
    """What this run made of one file version."""

    file: str
    sha256: str
    status: str
    rows: int
    rows_rejected: int
    errors: int
    warnings: int
    size_bytes: int
    modified_ns: int


def _outcomes_table(outcomes: list[FileOutcome]) -> pa.Table:
    return pa.Table.from_pylist(
        [asdict(o) for o in outcomes],
        schema=pa.schema(
            [
                ("file", pa.string()),
                ("sha256", pa.string()),
                ("status", pa.string()),
                ("rows", pa.int64()),
                ("rows_rejected", pa.int64()),
                ("errors", pa.int64()),
                ("warnings", pa.int64()),
                ("size_bytes", pa.int64()),
                ("modified_ns", pa.int64()),
            ]
        ),
    )


def _issues_table(issues: list[Issue], sha_by_file: dict[str, str]) -> pa.Table:
    rows = [{**asdict(issue), "file_sha256": sha_by_file[issue.file]} for issue in issues]
    return pa.Table.from_pylist(
        rows,
        schema=pa.schema(
            [
                ("source", pa.string()),
                ("file", pa.string()),
                ("sheet", pa.string()),
                ("row", pa.int64()),
                ("column", pa.string()),
                ("value", pa.string()),
                ("rule", pa.string()),
                ("severity", pa.string()),
                ("message", pa.string()),
                ("file_sha256", pa.string()),
            ]
        ),
    )


@contextlib.contextmanager
def registered(con, **tables):
    """Arrow tables (or frames) visible to DuckDB under the given names for the duration of the block."""
    for name, table in tables.items():
        con.register(name, table)
    try:
        yield
    finally:
        for name in tables:
            con.unregister(name)


def commit_load(
    con,
    source: str,
    outcomes: list[FileOutcome],
    inserts: list[Callable[[object], None]],
    issues: list[Issue],
    registry_sha256: str | None,
    row_level: bool,
    loaded_at: dt.datetime,
) -> None:
    """Replaces the rows of every loaded file and records every outcome and issue, in one transaction.

    `inserts` are callables that insert the loaded files' rows from where they were checked (a staged table,
    a Parquet file read in place).
    """
    if not outcomes:
        return
    tables = {
        "_ingest_outcomes": _outcomes_table(outcomes),
        "_ingest_issues": _issues_table(issues, {o.file: o.sha256 for o in outcomes}),
    }
    with registered(con, **tables):
        con.execute("begin transaction")
        try:
            con.execute(
                f"delete from raw.{source} where _source_file in "
                "(select file from _ingest_outcomes where status = 'loaded')"
            )
            for insert in inserts:
                insert(con)
            _record_outcomes(con, source, registry_sha256, row_level, loaded_at)
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise


def _record_outcomes(con, source: str, registry_sha256: str | None, row_level: bool, loaded_at: dt.datetime) -> None:
    # A quarantined version never replaces a loaded one: the rows of the last good version stay.
    con.execute(
        """
        update ops.loaded_files f set status = 'replaced'
        from _ingest_outcomes o
        where f.source = ? and f.file = o.file and f.sha256 <> o.sha256 and f.status <> 'replaced'
          and (f.status = 'quarantined' or o.status = 'loaded')
    """,
        [source],
    )
    con.execute(
        "delete from ops.loaded_files f using _ingest_outcomes o "
        "where f.source = ? and f.file = o.file and f.sha256 = o.sha256",
        [source],
    )
    con.execute(
        """
        insert into ops.loaded_files
        select ?, file, sha256, status, rows, rows_rejected, errors, warnings, size_bytes, modified_ns, ?, ?, ?
        from _ingest_outcomes
    """,
        [source, registry_sha256, row_level, loaded_at],
    )
    con.execute(
        "delete from ops.quarantine q using _ingest_outcomes o where q.source = ? and q.file = o.file", [source]
    )
    con.execute(
        """
        insert into ops.quarantine
        select source, file, sheet, "row", "column", value, rule, severity, message, file_sha256, ?
        from _ingest_issues
    """,
        [loaded_at],
    )
