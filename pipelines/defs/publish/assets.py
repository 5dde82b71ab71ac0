"""Publication of the marts for analysts, one asset per published mart, written as one release.

The assets depend on the marts they publish, so Dagster runs them only after those marts' blocking
checks (Great Expectations data-quality suites, dbt tests of error severity) have passed in the same run;
when one fails, publication is skipped and ``current`` keeps pointing at the previous, untouched release.
All marts are written by one step into one release, so a release is never a mix of two runs.
"""

from pathlib import Path

import dagster as dg
from dagster_dbt import get_asset_key_for_model
from dagster_duckdb import DuckDBResource

from pipelines.defs.dbt.assets import monitoring_dbt_models
from pipelines.defs.metadata import table_metadata
from pipelines.defs.publish.config import PublicationConfig, load_publication_config
from pipelines.defs.publish.release import PUBLISHED_DB, MartRelease, publish
from pipelines.defs.publish.state import input_state, record_published
from pipelines.defs.quality.gx_suites import SUITE_SPECS, GreatExpectations
from pipelines.defs.resources import Folder

CONFIG = load_publication_config()


def _spec(mart) -> dg.AssetSpec:
    return dg.AssetSpec(
        key=["publish", mart.name],
        deps=[get_asset_key_for_model([monitoring_dbt_models], mart.model)],
        group_name="publish",
        kinds={"duckdb", "parquet", "excel"},
        description=f"{mart.title}. Published from {mart.relation} as read-only DuckDB, Parquet and Excel.",
    )


def _metadata(con, release: MartRelease, release_dir: Path, config: PublicationConfig) -> dict:
    """Row count and preview of the published table, and where analysts find it."""
    metadata = table_metadata(con, f"{PUBLISHED_DB}.{release.mart.name}")
    return {
        **metadata,
        "suppressed rows": dg.MetadataValue.int(release.suppressed_rows),
        "release": dg.MetadataValue.path(str(release_dir)),
        "parquet": dg.MetadataValue.path(str(release_dir / config.parquet_folder / f"{release.mart.name}.parquet")),
        "excel": dg.MetadataValue.url((release_dir / config.excel_file).as_uri()),
    }


@dg.multi_asset(
    name="publication",
    specs=[_spec(mart) for mart in CONFIG.marts],
    can_subset=False,
    pool="duckdb_writer",
)
def publication(
    context: dg.AssetExecutionContext,
    duckdb: DuckDBResource,
    publish_folder: Folder,
    landing: Folder,
    great_expectations: GreatExpectations,
):
    """Prunes old releases, writes every configured mart and the checks' Data Docs into a new release, makes
    it current, and records the input state it was built from in the manifest and in the working database."""
    with duckdb.get_connection() as con:
        state = input_state(con, landing.root)
        done = publish(
            con,
            publish_folder.root,
            CONFIG,
            context.run_id,
            state,
            write_docs=lambda target: great_expectations.build_offline_docs(target, SUITE_SPECS),
        )
        release_dir = done.release_dir
        con.execute(f"attach '{(release_dir / CONFIG.duckdb_file).as_posix()}' as {PUBLISHED_DB} (read_only)")
        try:
            metadata = {r.mart.name: _metadata(con, r, release_dir, CONFIG) for r in done.releases}
        finally:
            con.execute(f"detach {PUBLISHED_DB}")
        record_published(con, release_dir.name, state, context.run_id)
    context.log.info(f"published {release_dir.name}; removed old releases: {', '.join(done.removed) or 'none'}")
    for release in done.releases:
        yield dg.MaterializeResult(asset_key=["publish", release.mart.name], metadata=metadata[release.mart.name])


@dg.definitions
def publish_defs() -> dg.Definitions:
    return dg.Definitions(assets=[publication])
