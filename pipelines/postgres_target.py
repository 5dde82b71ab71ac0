"""The dbt models on PostgreSQL: `python -m pipelines.postgres_target` (`make postgres`).

For an authority that keeps its warehouse on an existing PostgreSQL server (docs/scale_out.md).
Ingestion still validates the landing folder into the DuckDB warehouse, where the data contracts and
quarantine live; this copies that warehouse's `raw` schema to PostgreSQL, table by table, and builds
the same dbt project there with `--target postgres` (seeds, models and every dbt test).

The server comes from POSTGRES_HOST, POSTGRES_PORT, POSTGRES_USER, POSTGRES_PASSWORD and POSTGRES_DB,
the variables the `postgres` target of dbt_project/profiles.yml reads.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import duckdb
import psycopg2
from psycopg2 import sql

from pipelines.common import sql_identifier
from pipelines.defs.dbt.project import DBT_EXECUTABLE, DBT_PROJECT_DIR

RAW_SCHEMA = "raw"
POSTGRES_TARGET_PATH = "target/postgres"
NULL_MARK = r"\N"
SCALAR_TYPES = {
    "BOOLEAN": "boolean",
    "TINYINT": "smallint",
    "SMALLINT": "smallint",
    "INTEGER": "integer",
    "BIGINT": "bigint",
    "HUGEINT": "numeric(38, 0)",
    "FLOAT": "real",
    "DOUBLE": "double precision",
    "DATE": "date",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "VARCHAR": "text",
}


# Connection parameter → (environment variable, default), as the `postgres` target of profiles.yml reads them.
SERVER_VARIABLES = {
    "host": ("POSTGRES_HOST", "127.0.0.1"),
    "port": ("POSTGRES_PORT", "5432"),
    "user": ("POSTGRES_USER", "monitoring"),
    "password": ("POSTGRES_PASSWORD", ""),
    "dbname": ("POSTGRES_DB", "monitoring"),
}


def connection_parameters() -> dict[str, str]:
    """The server of the dbt `postgres` target, from the environment."""
    return {key: os.environ.get(variable, default) for key, (variable, default) in SERVER_VARIABLES.items()}


def server_environment(parameters: dict[str, str]) -> dict[str, str]:
    """The environment variables that point the dbt `postgres` target at a server."""
    return {variable: str(parameters[key]) for key, (variable, _) in SERVER_VARIABLES.items()}


def postgres_type(duckdb_type: str) -> str:
    """The PostgreSQL column type for a DuckDB one; lists become arrays of the element type."""
    if duckdb_type.endswith("[]"):
        return postgres_type(duckdb_type[:-2]) + "[]"
    decimal = re.fullmatch(r"DECIMAL\((\d+),\s*(\d+)\)", duckdb_type)
    if decimal:
        return f"numeric({decimal.group(1)}, {decimal.group(2)})"
    if duckdb_type not in SCALAR_TYPES:
        raise ValueError(f"no PostgreSQL type for the DuckDB type {duckdb_type}")
    return SCALAR_TYPES[duckdb_type]


def raw_tables(warehouse: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[str, str]]]:
    """Table name → [(column, DuckDB type)] of the raw schema, in column order."""
    rows = warehouse.execute(
        "select table_name, column_name, data_type from information_schema.columns "
        "where table_schema = ? order by table_name, ordinal_position",
        [RAW_SCHEMA],
    ).fetchall()
    tables: dict[str, list[tuple[str, str]]] = {}
    for table, column, data_type in rows:
        tables.setdefault(table, []).append((column, data_type))
    return tables


def _csv_expression(column: str, duckdb_type: str) -> str:
    """A column as PostgreSQL's COPY reads it: lists in array-literal form {1,NULL,3}.

    Null elements (a task left blank) are spelled out: array_to_string alone drops them and would shift
    every later task score onto the wrong task.
    """
    quoted = sql_identifier(column)
    if duckdb_type.endswith("[]"):
        elements = f"list_transform({quoted}, lambda element: coalesce(cast(element as varchar), 'NULL'))"
        return f"'{{' || array_to_string({elements}, ',') || '}}' as {quoted}"
    return quoted


def export_table_csv(
    warehouse: duckdb.DuckDBPyConnection, table: str, columns: list[tuple[str, str]], path: Path
) -> None:
    """Writes one raw table to a CSV file that PostgreSQL's COPY reads back without loss."""
    select_list = ", ".join(_csv_expression(column, duckdb_type) for column, duckdb_type in columns)
    warehouse.execute(
        f"copy (select {select_list} from {RAW_SCHEMA}.{table}) to '{path}' "
        f"(format csv, header false, nullstr '{NULL_MARK}')"
    )


def replace_postgres_table(cursor, table: str, columns: list[tuple[str, str]], csv_path: Path) -> int:
    """Recreates raw.<table> on the server and fills it from the CSV file; returns its row count."""
    target = sql.Identifier(RAW_SCHEMA, table)
    column_list = sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(column), sql.SQL(postgres_type(duckdb_type)))
        for column, duckdb_type in columns
    )
    cursor.execute(sql.SQL("drop table if exists {} cascade").format(target))
    cursor.execute(sql.SQL("create table {} ({})").format(target, column_list))
    with csv_path.open("rb") as data:
        cursor.copy_expert(
            sql.SQL("copy {} from stdin with (format csv, null {})").format(target, sql.Literal(NULL_MARK)), data
        )
    cursor.execute(sql.SQL("select count(*) from {}").format(target))
    return cursor.fetchone()[0]


def copy_raw_schema(warehouse_path: Path, parameters: dict[str, str]) -> dict[str, int]:
    """Copies every raw table of the DuckDB warehouse to PostgreSQL in one transaction.

    Readers of the server see the old raw schema or the new one, never a mix: the copy commits once.
    """
    warehouse = duckdb.connect(str(warehouse_path), read_only=True)
    counts: dict[str, int] = {}
    try:
        tables = raw_tables(warehouse)
        if not tables:
            raise RuntimeError(f"{warehouse_path} has no tables in schema {RAW_SCHEMA}: run the ingestion first")
        with (
            tempfile.TemporaryDirectory() as scratch,
            psycopg2.connect(**parameters) as server,
            server.cursor() as cursor,
        ):
            cursor.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(RAW_SCHEMA)))
            for table, columns in tables.items():
                csv_path = Path(scratch) / f"{table}.csv"
                export_table_csv(warehouse, table, columns, csv_path)
                counts[table] = replace_postgres_table(cursor, table, columns, csv_path)
                csv_path.unlink()
    finally:
        warehouse.close()
    return counts


def build_models(
    dbt_args: list[str], target_path: str = POSTGRES_TARGET_PATH, env: dict[str, str] | None = None
) -> None:
    """`dbt build --target postgres` over the copied raw schema; raises when a model or test fails."""
    # A target path of its own keeps the DuckDB manifest that the Dagster code location reads intact.
    subprocess.run(
        [
            str(DBT_EXECUTABLE),
            "build",
            "--target",
            "postgres",
            "--target-path",
            target_path,
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--project-dir",
            str(DBT_PROJECT_DIR),
            *dbt_args,
        ],
        check=True,
        env=env,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--warehouse",
        type=Path,
        default=Path(os.environ.get("WAREHOUSE_PATH", "data/warehouse/monitoring.duckdb")),
        help="DuckDB warehouse with the raw schema",
    )
    parser.add_argument("--skip-build", action="store_true", help="copy the raw schema only")
    args, dbt_args = parser.parse_known_args(argv)
    counts = copy_raw_schema(args.warehouse, connection_parameters())
    for table, rows in counts.items():
        print(f"raw.{table}: {rows:,} rows copied")
    if not args.skip_build:
        build_models(dbt_args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
