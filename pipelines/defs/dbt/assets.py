"""dbt models as Dagster assets: staging views, intermediate tables, marts and rule seeds.

dbt tests become asset checks (descriptions: ``translator.py``). dbt's events reach Dagster as dbt emits them,
so the UI follows the build model by model. DuckDB allows one writer per file and dbt holds the working
database for the whole build, so no other connection sees it meanwhile: dagster-dbt's ``fetch_row_counts()``,
which queries each built model through a dbt adapter in this process while dbt runs, gets no row count (tried
on the sample: «An error occurred while fetching row count … does not exist» for every model). Row counts and
previews are therefore reported once dbt has exited, as observations of the models it built, and a failed
check is reported then too, with a bounded sample of its failing rows.

Each build writes its artifacts (compiled SQL and run results) under
``dbt_project/target/runs/<run id>/``, removed when the step ends; ``pipelines.run`` also removes what a
killed run left there. The manifest the code location loads stays in ``target/``.
"""

import contextlib
import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import dbt_assets

from pipelines.defs.dbt.project import RUN_TARGETS, ProjectDbtCli, dbt_project, project_dbt_cli
from pipelines.defs.dbt.translator import MonitoringDbtTranslator
from pipelines.defs.metadata import failing_rows_metadata, table_metadata
from pipelines.defs.publish.state import clear_published
from pipelines.defs.resources import Warehouse

MANIFEST = json.loads(dbt_project.manifest_path.read_text(encoding="utf-8"))
PARTIAL_PARSE = "partial_parse.msgpack"
# The parse state of the latest builds, one per profile; the oldest beyond KEPT_PARSE_STATES are removed.
PARSE_STATES = dbt_project.manifest_path.parent / "parse_states"
KEPT_PARSE_STATES = 8


def _relation(node: dict[str, Any]) -> str:
    return f"{node['schema']}.{node['alias'] or node['name']}"


# ``schema.name`` of every dbt model configured ``meta: {participant_level: true}``: no row preview.
PARTICIPANT_LEVEL = frozenset(
    _relation(node)
    for node in MANIFEST["nodes"].values()
    if node["resource_type"] == "model" and (node["config"].get("meta") or {}).get("participant_level")
)


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=MonitoringDbtTranslator(),
    pool="duckdb_writer",
)
def monitoring_dbt_models(context: dg.AssetExecutionContext, dbt: ProjectDbtCli, duckdb: Warehouse) -> Iterator[Any]:
    """Builds and tests every selected dbt model and seed (`dbt build`).

    The dbt unit tests are left to the test suite and CI: they test the SQL of the rules on fixed rows,
    so they say nothing new about this run's data, and they would cost every run a few seconds.
    """
    with duckdb.get_connection() as con:  # from here on the marts differ from the published ones
        clear_published(con)
    target = RUN_TARGETS / context.run_id
    state = parse_state(duckdb.database, duckdb.memory_limit)
    built: list[dg.AssetKey] = []
    failed: list[dg.AssetCheckResult] = []
    try:
        target.mkdir(parents=True, exist_ok=True)
        # Without one (no build with this profile yet, or pruned meanwhile) dagster-dbt copies `make setup`'s.
        with contextlib.suppress(FileNotFoundError):
            shutil.copyfile(state, target / PARTIAL_PARSE)
        for event in dbt.cli(
            ["build", "--exclude-resource-type", "unit_test"], context=context, target_path=target
        ).stream():
            if isinstance(event, dg.AssetCheckResult) and not event.passed:
                failed.append(event)  # its failing rows can only be read once dbt has exited
                continue
            if isinstance(event, dg.Output):
                built.append(context.asset_key_for_output(event.output_name))
            yield event
        keep_partial_parse(target, state)
    finally:
        shutil.rmtree(target, ignore_errors=True)
    with duckdb.get_connection() as con:  # dbt has exited: its write lock is free
        for check in failed:
            yield check.with_metadata({**check.metadata, **_failing_rows(con, check)})
        for key in built:
            relation = ".".join(key.path)
            yield dg.AssetObservation(
                asset_key=key,
                metadata=table_metadata(con, relation, participant_level=relation in PARTICIPANT_LEVEL),
            )


def parse_state(warehouse: str, memory_limit: str) -> Path:
    """Where the parse state of builds with this profile is kept.

    dbt parses the whole project again (about 2 s of the region benchmark) when the profile it parsed with
    differs, and the profile holds the warehouse path and the memory limit: one state kept for every build
    would serve only the profile that built last, so a test run or a second warehouse would cost the next run
    of each the parse."""
    key = hashlib.sha256(f"{Path(warehouse).resolve()}|{memory_limit}".encode()).hexdigest()[:16]
    return PARSE_STATES / f"{key}.msgpack"


def keep_partial_parse(run_target: Path, state: Path) -> None:
    """Keeps the build's parse state for the next build with the same profile (``parse_state``); dbt checks
    it against the project's files, variables and profile before it uses any of it. Replaced in one step, so
    a build that copies it meanwhile reads a whole file; the states of profiles not built for longest go."""
    built = run_target / PARTIAL_PARSE
    if not built.is_file():
        return
    state.parent.mkdir(parents=True, exist_ok=True)
    staging = state.with_name(f"{state.name}.{run_target.name}")
    shutil.copyfile(built, staging)
    os.replace(staging, state)
    for old in sorted(state.parent.glob("*.msgpack"), key=_modified, reverse=True)[KEPT_PARSE_STATES:]:
        old.unlink(missing_ok=True)


def _modified(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:  # removed by a build that ended meanwhile
        return 0.0


def _failing_rows(con, check: dg.AssetCheckResult) -> dict[str, dg.MetadataValue]:
    """A sample of the rows dbt kept for the failed test (``store_failures_as: view``), without participant columns."""
    unique_id = check.metadata.get("unique_id")
    test = MANIFEST["nodes"].get(unique_id.value if unique_id else None)
    if test is None or not test.get("relation_name"):
        return {}
    tested = MANIFEST["nodes"].get(test.get("attached_node") or "", {})
    return failing_rows_metadata(
        con,
        f"{test['schema']}.{test['alias'] or test['name']}",
        participant_level=bool(tested) and _relation(tested) in PARTICIPANT_LEVEL,
    )


@dg.definitions
def dbt_defs() -> dg.Definitions:
    return dg.Definitions(
        assets=[monitoring_dbt_models],
        resources={"dbt": project_dbt_cli(dbt_project)},
    )
