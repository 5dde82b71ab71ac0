"""Ingestion assets: one per source, `raw/<source>`, each with an asset check reporting its quarantine.

Every asset calls `load_source` (the code path of `load_landing`) on the landing folder and reports what it
did: row counts, files loaded / skipped / quarantined / missing, a preview and the column schema built
from the source's pandera contract. ВПР and ГИА are partitioned by campaign (see `campaigns.py`). Every
source but the registry depends on `raw/schools`, whose logins it is checked against. Assets write the
working database, so they run in the `duckdb_writer` pool (one writer at a time).
"""

import dagster as dg
import pandera.pandas as pa
from dagster_duckdb import DuckDBResource
from pydantic import Field

from pipelines.defs.ingest.partitions import CAMPAIGNS
from pipelines.defs.metadata import NO_PREVIEW, PREVIEW_ROWS
from pipelines.defs.resources import Folder
from pipelines.ingest.campaigns import years_for_campaign
from pipelines.ingest.contracts import VPR_TASK_SCORES, contract
from pipelines.ingest.load import SourceLoadReport, load_source
from pipelines.ingest.sources import ALIASES, REGISTRY, SOURCES

QUARANTINE_CHECK = "quarantine"
ISSUES_SHOWN = 50
PARTICIPANT_SOURCES = ("vpr_results", "gia_results")  # rows are pupils: never previewed in the UI
LINEAGE_COLUMNS = [
    dg.TableColumn("_source_file", "varchar", "file the row was read from, relative to the landing folder"),
    dg.TableColumn("_sheet", "varchar", "sheet of the workbook (NULL for CSV and Parquet)"),
    dg.TableColumn("_row_number", "integer", "row as a person sees it: Excel row, CSV line, Parquet row"),
    dg.TableColumn("_file_sha256", "varchar", "fingerprint of the file version the row came from"),
    dg.TableColumn("_loaded_at", "timestamp", "when the row was written (UTC)"),
]
REGISTRY_KEY = dg.AssetKey(["raw", REGISTRY])
ALIASES_KEY = dg.AssetKey(["raw", ALIASES])


class IngestConfig(dg.Config):
    row_level_quarantine: bool = Field(
        default=False,
        description="Keep the good rows of a file that breaks its contract (only its failing rows are left "
        "out). By default the whole file is quarantined.",
    )
    read_workers: int = Field(
        default=2,
        description="Processes that read and check a source's files when they hold 16 MB or more (a region's "
        "ВПР forms or exports), at most one per core; 1 reads them in the run's process.",
    )


def table_schema(schema: pa.DataFrameSchema, *extra: pa.DataFrameSchema) -> dg.TableSchema:
    """The raw table's columns and rules as the Dagster UI shows them, from the pandera contract."""
    columns = [
        dg.TableColumn(
            name,
            column.metadata["sql_type"],
            description="; ".join(
                filter(None, [f"«{column.title}» in the file" if column.title else None, column.description])
            )
            or None,
            constraints=dg.TableColumnConstraints(
                nullable=column.nullable,
                unique=column.unique,
                other=[check.description for check in column.checks if check.description],
            ),
        )
        for name, column in schema.columns.items()
    ]
    rules = [check.description for s in (schema, *extra) for check in s.checks if check.description]
    return dg.TableSchema(
        columns=columns + LINEAGE_COLUMNS, constraints=dg.TableConstraints(other=list(dict.fromkeys(rules)))
    )


def column_schema(name: str) -> dg.TableSchema:
    """The source's raw table as its contract describes it (the registry rule included)."""
    return table_schema(contract(name, frozenset()), *((VPR_TASK_SCORES,) if name == "vpr_results" else ()))


def ingest_asset(name: str):
    """The `@dg.asset` of a source: key raw/<name>, group ingest, one quarantine check."""
    source = SOURCES[name]
    key = dg.AssetKey(["raw", name])
    kinds = {"python", "duckdb", source.kind} | ({"parquet"} if name == "vpr_results" else set())
    return dg.asset(
        key=key,
        description=source.description,
        group_name="ingest",
        kinds=kinds,
        pool="duckdb_writer",
        deps={REGISTRY: [], ALIASES: [REGISTRY_KEY]}.get(name, [REGISTRY_KEY, ALIASES_KEY]),
        partitions_def=CAMPAIGNS if source.partitioned else None,
        metadata={"dagster/column_schema": column_schema(name), "landing_files": ", ".join(source.patterns)},
        check_specs=[
            dg.AssetCheckSpec(
                QUARANTINE_CHECK,
                asset=key,
                blocking=False,
                description=f"No file of {source.title} is quarantined and no row was left out; lists every "
                "failing cell (file, sheet, row, column, value, rule). Warns, never blocks.",
            )
        ],
    )


def materialize_source(
    context: dg.AssetExecutionContext, name: str, config: IngestConfig, duckdb: DuckDBResource, landing: Folder
) -> dg.MaterializeResult:
    """Loads the source (one campaign of it when partitioned) and reports rows, files and quarantine."""
    campaign = context.partition_key if SOURCES[name].partitioned else None
    with duckdb.get_connection() as con:
        report = load_source(
            name,
            landing.root,
            con,
            campaign=campaign,
            row_level_quarantine=config.row_level_quarantine,
            workers=config.read_workers,
        )
        scope = _scope(name, campaign)
        [(row_count,)] = con.execute(f"select count(*) from raw.{name} where {scope}").fetchall()
        preview = _preview(con, name, scope)
        check = _quarantine_check(con, name, report)
    for note in report.notes:
        context.log.warning(note)
    if report.files_missing:
        context.log.warning(
            f"{len(report.files_missing)} file(s) of raw.{name} are no longer in the landing folder; "
            f"their rows are kept: {', '.join(report.files_missing)}"
        )
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": dg.MetadataValue.int(int(row_count)),
            "files_found": len(report.files_found),
            "files_loaded": len(report.files_loaded),
            "files_skipped": len(report.files_skipped),
            "files_quarantined": len(report.files_quarantined),
            "files_missing": len(report.files_missing),
            "rows_written": report.rows_written,
            "rows_rejected": report.rows_rejected,
            "quarantined": dg.MetadataValue.md(_bullets(report.files_quarantined)),
            "missing": dg.MetadataValue.md(_bullets(report.files_missing)),
            **(
                {
                    "files_not_read": len(report.unread),
                    "not_read": dg.MetadataValue.md(_bullets([f"{f}: {why}" for f, why in report.unread])),
                }
                if name == REGISTRY
                else {}
            ),
            "preview": dg.MetadataValue.md(preview),
            "dagster/column_schema": column_schema(name),
            "seconds": round(report.seconds, 2),
        },
        check_results=[check],
    )


def _scope(name: str, campaign: str | None) -> str:
    """The rows of the materialised partition (every row when the source is not partitioned)."""
    if campaign is None:
        return "true"
    years = years_for_campaign(campaign)
    return f"year in ({', '.join(map(str, years))})" if years else "false"


def _preview(con, name: str, scope: str) -> str:
    """The first rows of the load; none for participant results, whose rows are pupils (counts only)."""
    if name in PARTICIPANT_SOURCES:
        return NO_PREVIEW
    frame = con.execute(
        f"select * exclude (_file_sha256) from raw.{name} where {scope} "
        f"order by _source_file, _row_number limit {PREVIEW_ROWS}"
    ).df()
    return frame.to_markdown(index=False) if len(frame) else "_no rows_"


def _bullets(items: list[str]) -> str:
    return "\n".join(f"- {item}" for item in items) if items else "_none_"


def _quarantine_check(con, name: str, report: SourceLoadReport) -> dg.AssetCheckResult:
    """Fails (WARN) while a present file of the source is quarantined or had rows left out."""
    files = report.files_found
    failing = con.execute(
        """
        select file, status, rows_rejected, errors from ops.loaded_files
        where source = ? and status <> 'replaced' and list_contains(?, file)
          and (status = 'quarantined' or rows_rejected > 0)
        order by file""",
        [name, files],
    ).fetchall()
    issues = con.execute(
        f"""
        select file, sheet, row_number, column_name,
               case when column_name in ('participant_code') then '(код участника скрыт)' else value end as value,
               rule, severity,
               case when column_name in ('participant_code') then rule else message end as message
        from ops.quarantine
        where source = ? and list_contains(?, file) order by severity, file, row_number limit {ISSUES_SHOWN}
        """,
        [name, files],
    ).df()
    [(warnings,)] = con.execute(
        "select count(*) from ops.quarantine where source = ? and severity = 'warning' and list_contains(?, file)",
        [name, files],
    ).fetchall()
    return dg.AssetCheckResult(
        check_name=QUARANTINE_CHECK,
        passed=not failing,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "quarantined_files": dg.MetadataValue.md(
                _bullets([f for f, status, *_ in failing if status == "quarantined"])
            ),
            "files_with_rows_left_out": dg.MetadataValue.md(
                _bullets([f"{f}: {rejected} row(s)" for f, status, rejected, _ in failing if status == "loaded"])
            ),
            "errors": int(sum(errors for *_, errors in failing)),
            "warnings": int(warnings),
            "issues": dg.MetadataValue.md(issues.to_markdown(index=False) if len(issues) else "_none_"),
        },
        description=f"{len(failing)} file(s) quarantined or with rows left out" if failing else None,
    )


def build_ingest_asset(name: str) -> dg.AssetsDefinition:
    """The asset of a declared source: every source loads through the one code path, `load_source`."""

    @ingest_asset(name)
    def ingest(
        context: dg.AssetExecutionContext, config: IngestConfig, duckdb: DuckDBResource, landing: Folder
    ) -> dg.MaterializeResult:
        return materialize_source(context, name, config, duckdb, landing)

    return ingest


INGEST_ASSETS = [build_ingest_asset(name) for name in SOURCES]


# Appeals lists are read by raw/gia_results (they are recognised among its files) into their own table; the
# table is declared so dbt's source raw.gia_appeals has an asset key of its own downstream of it.
GIA_APPEALS = dg.AssetSpec(
    key=dg.AssetKey(["raw", "gia_appeals"]),
    deps=[dg.AssetKey(["raw", "gia_results"])],
    kinds={"duckdb"},
    description="РЦОИ appeals lists (апелляции / перепроверки), one row per appeal with the score before and "
    "after; written by raw/gia_results, which reads them among the ГИА files.",
)


@dg.definitions
def ingest_defs() -> dg.Definitions:
    return dg.Definitions(assets=[*INGEST_ASSETS, GIA_APPEALS])
