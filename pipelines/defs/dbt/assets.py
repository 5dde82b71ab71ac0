"""dbt models as Dagster assets: staging views, intermediate tables, marts and rule seeds.

dbt tests become asset checks. Row counts and previews are read from the working database once dbt has
finished and released its write lock (DuckDB allows one writer per file, so they cannot be read while
dbt is still running).

Each build writes its artifacts (compiled SQL, run results, logs: about 13 MB) under
``dbt_project/target/runs/<run id>/``, removed when the step ends; ``pipelines.run`` also removes what a
killed run left there. The manifest the code location loads stays in ``target/``.
"""

import json
import shutil

from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets
from dagster_duckdb import DuckDBResource

from pipelines.defs.dbt.project import DBT_EXECUTABLE, RUN_TARGETS, dbt_project
from pipelines.defs.metadata import table_metadata
from pipelines.defs.publish.state import clear_published

def participant_level_relations(manifest_path=dbt_project.manifest_path) -> frozenset[str]:
    """``schema.name`` of every dbt model configured ``meta: {participant_level: true}``: no row preview."""
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    return frozenset(
        f"{node['schema']}.{node['alias'] or node['name']}"
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and (node["config"].get("meta") or {}).get("participant_level")
    )


PARTICIPANT_LEVEL = participant_level_relations()
LAYER_BY_FOLDER = {"staging": "staging", "intermediate": "intermediate", "marts": "marts", "objectivity": "objectivity"}


class MonitoringDbtTranslator(DagsterDbtTranslator):
    """Groups dbt nodes by layer, so the UI shows ingest → staging → intermediate → marts."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "rules"
        folder = dbt_resource_props["fqn"][1] if len(dbt_resource_props["fqn"]) > 2 else None
        return LAYER_BY_FOLDER.get(folder, "marts")


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=MonitoringDbtTranslator(),
    pool="duckdb_writer",
)
def monitoring_dbt_models(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, duckdb: DuckDBResource
) -> Iterator[Any]:
    """Builds and tests every selected dbt model and seed (`dbt build`).

    The dbt unit tests are left to the test suite and CI: they test the SQL of the rules on fixed rows,
    so they say nothing new about this run's data, and they would cost every run a few seconds.
    """
    with duckdb.get_connection() as con:  # from here on the marts differ from the published ones
        clear_published(con)
    target = RUN_TARGETS / context.run_id
    try:
        events = list(dbt.cli(["build", "--exclude-resource-type", "unit_test"], context=context,
                              target_path=target).stream())
    finally:
        shutil.rmtree(target, ignore_errors=True)
    with duckdb.get_connection() as con:
        for event in events:
            yield _with_table_metadata(context, event, con)


def _with_table_metadata(context: dg.AssetExecutionContext, event: Any, con) -> Any:
    """Adds row count and preview to a materialisation of a table, view or seed built by dbt.

    Asset keys of dbt nodes are ``[schema, name]``, which is also their relation in the database.
    Participant-level models get the row count and their columns, never rows (``pipelines/defs/metadata.py``).
    """
    if not isinstance(event, dg.Output | dg.AssetMaterialization):
        return event
    if isinstance(event, dg.AssetMaterialization):
        path = event.asset_key.path
    else:
        path = context.asset_key_for_output(event.output_name).path
    if len(path) != 2:
        return event
    relation = ".".join(path)
    return event.with_metadata({**event.metadata,
                                **table_metadata(con, relation, participant_level=relation in PARTICIPANT_LEVEL)})


@dg.definitions
def dbt_defs() -> dg.Definitions:
    return dg.Definitions(
        assets=[monitoring_dbt_models],
        resources={"dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=str(DBT_EXECUTABLE))},
    )
