"""The same dbt models on PostgreSQL give the same tables as on DuckDB.

The raw schema of the shared sample run (tests/quality/sample_run.py) is copied to a database of its own
on the PostgreSQL server named by POSTGRES_* (fixture `postgres_database`), `dbt build --target postgres`
runs there with every seed, model, unit test and data test, and each table it builds is compared with the
one the DuckDB run built.
"""

from __future__ import annotations

import decimal

import duckdb
import numpy as np
import pandas as pd
import psycopg2
import pytest
from psycopg2 import sql

from pipelines.postgres_target import build_models, copy_raw_schema, server_environment
from tests.quality.sample_run import environment

COMPARED_SCHEMAS = ("rules", "staging", "intermediate", "marts", "objectivity")


@pytest.fixture(scope="module")
def postgres_build(sample, postgres_database, tmp_path_factory):
    """The sample's raw schema copied to PostgreSQL and the dbt project built there."""
    assert sample.success
    copied = copy_raw_schema(sample.warehouse, postgres_database)
    env = {**environment(sample.root, sample.landing), **server_environment(postgres_database)}
    build_models(["--quiet"], target_path=str(tmp_path_factory.mktemp("postgres_target")), env=env)
    return copied


def duckdb_tables(warehouse) -> list[tuple[str, str]]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(
            "select table_schema, table_name from information_schema.tables where table_schema in "
            f"({', '.join('?' * len(COMPARED_SCHEMAS))}) order by 1, 2",
            list(COMPARED_SCHEMAS),
        ).fetchall()


def plain(value):
    """One value as plain Python: numbers as float, arrays as tuples, every kind of null as None."""
    if isinstance(value, (list, tuple)):
        return tuple(plain(element) for element in value)
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, (decimal.Decimal, np.number)) and not isinstance(value, np.bool_):
        return float(value)
    return value


def canonical(frame: pd.DataFrame) -> pd.DataFrame:
    """Values as plain Python numbers and strings, rows in a fixed order, for comparing two engines."""
    frame = frame.astype(object).map(plain)
    numeric = [
        column
        for column in frame.columns
        if frame[column].map(lambda value: value is None or isinstance(value, float)).all()
    ]
    frame = frame.astype(dict.fromkeys(numeric, "float64"))
    return frame.sort_values(list(frame.columns), na_position="first", kind="stable").reset_index(drop=True)


def fetch_frame(cursor, query) -> pd.DataFrame:
    """Rows as Python objects (lists stay lists), the same way from both engines' DB-API cursors."""
    cursor.execute(query)
    return pd.DataFrame(cursor.fetchall(), columns=[column[0] for column in cursor.description])


def test_raw_schema_is_copied_row_for_row(sample, postgres_build):
    with duckdb.connect(str(sample.warehouse), read_only=True) as con:
        tables = con.execute("select table_name from information_schema.tables where table_schema = 'raw'").fetchall()
        expected = {table: con.execute(f"select count(*) from raw.{table}").fetchone()[0] for (table,) in tables}
    assert postgres_build == expected
    assert postgres_build["vpr_results"] > 0 and postgres_build["reviews"] > 0


def test_task_scores_keep_blank_tasks_in_place(sample, postgres_database, postgres_build):
    """A blank task is a null element: the copy must not drop it and shift later tasks."""
    query = "select task_scores from raw.vpr_results where participant_code = %s and work_code = %s and year = %s"
    with duckdb.connect(str(sample.warehouse), read_only=True) as con:
        participant, work, year, scores = con.execute(
            "select participant_code, work_code, year, task_scores from raw.vpr_results "
            "where list_contains(list_transform(task_scores, lambda s: s is null), true) limit 1"
        ).fetchone()
    with psycopg2.connect(**postgres_database) as server, server.cursor() as cursor:
        cursor.execute(query, (participant, work, year))
        assert cursor.fetchone()[0] == scores


def test_every_model_matches_duckdb(sample, postgres_database, postgres_build):
    tables = duckdb_tables(sample.warehouse)
    assert len(tables) > 30
    mismatched = []
    with duckdb.connect(str(sample.warehouse), read_only=True) as con, psycopg2.connect(**postgres_database) as server:
        for schema, table in tables:
            expected = fetch_frame(con, f"select * from {schema}.{table}")
            actual = fetch_frame(server.cursor(), sql.SQL("select * from {}").format(sql.Identifier(schema, table)))
            assert list(actual.columns) == list(expected.columns), f"{schema}.{table}: columns differ"
            try:
                pd.testing.assert_frame_equal(
                    canonical(actual), canonical(expected), check_dtype=False, rtol=1e-9, atol=1e-12
                )
            except AssertionError as difference:
                mismatched.append(f"{schema}.{table}: {difference}")
    assert not mismatched, "\n\n".join(mismatched)
