"""Runs the whole pipeline on the configured landing folder: `python -m pipelines.run [--force]`.

The registry, FIOKO lists and passports are loaded first (participant results are checked against the
registry), then each campaign found in the landing folder is ingested as its own partition, then the
rest (dbt models, checks, publication) runs once. Runs are recorded in the Dagster instance at
$DAGSTER_HOME, so they show in the UI (`make dev`) like scheduled runs.

The marts and the publication are up to date, and the monitoring job is not run again, only when the
current release and the marts of the working database were built from exactly the inputs the monitoring
job would read now (``pipelines/defs/publish/state.py``): the versions of the loaded files, the review
file, the dbt project, the suites and the publication settings. A new working database, a rebuilt mart
or inputs that changed and changed back are rebuilt and published again.

Before anything runs (``pipelines/runs.py``): the run takes an exclusive lock (a second run at once is
refused), runs of this instance left STARTED by a killed process are marked failed and their pool slots
freed, the working database is checked once for another process holding it, the participant code salt
is checked against the one the stored codes were made with, and dbt folders of killed runs are removed.
"""

import argparse
import os
import sys
from pathlib import Path

import dagster as dg
import duckdb

from pipelines.defs.publish.state import input_state, published_state_matches
from pipelines.runs import (
    RunRefused,
    clean_dbt_targets,
    lock_path,
    process_tags,
    recover_dead_runs,
    run_lock,
    warehouse_lock_problem,
)

DBT_TARGET = Path(__file__).resolve().parents[1] / "dbt_project" / "target"


def is_up_to_date(warehouse: Path, publish_dir: Path | None, state: str) -> tuple[bool, str]:
    """Whether the current release and the working database's marts were built from ``state``."""
    from pipelines.defs.publish.assets import CONFIG

    if publish_dir is None:
        return False, "PUBLISH_DIR is not set"
    return published_state_matches(warehouse, publish_dir, state, [mart.relation for mart in CONFIG.marts])


def salt_problem(warehouse: Path) -> str | None:
    """The participant code salt check of the loader, once before any run (it records the salt too)."""
    from pipelines.ingest import store
    from pipelines.ingest.load import SALT_VARIABLE, salt_state_problem

    with duckdb.connect(str(warehouse)) as con:
        store.ensure_tables(con)
        return salt_state_problem(con, os.environ.get(SALT_VARIABLE) or None)


def run_pipeline(landing_dir: Path, warehouse: Path, force: bool = False, publish_dir: Path | None = None) -> bool:
    """Materialises every campaign's ingestion and then the rest; True when every run succeeded.

    Raises ``RunRefused`` when the run cannot start (another run, the working database held, the salt).
    """
    with run_lock(lock_path(warehouse)) as stale:
        if stale:
            print(stale)
        problem = warehouse_lock_problem(warehouse)
        if problem:
            raise RunRefused(problem)
        warehouse.parent.mkdir(parents=True, exist_ok=True)
        problem = salt_problem(warehouse)
        if problem:
            raise RunRefused(problem)
        instance = dg.DagsterInstance.get()
        for line in [*recover_dead_runs(instance), *clean_dbt_targets(instance, DBT_TARGET)]:
            print(line)
        return _run_jobs(instance, landing_dir, warehouse, force, publish_dir)


def _run_jobs(instance, landing_dir: Path, warehouse: Path, force: bool, publish_dir: Path | None) -> bool:
    from pipelines.defs.automation.jobs import REFERENCE_INGEST_SELECTION
    from pipelines.definitions import defs
    from pipelines.ingest.campaigns import campaigns_in_landing

    definitions = defs()
    tags = process_tags()
    ingest_job = definitions.resolve_job_def("ingest_campaign_job")
    monitoring_job = definitions.resolve_job_def("monitoring_job")
    reference = monitoring_job.execute_in_process(
        instance=instance, asset_selection=list(REFERENCE_INGEST_SELECTION.resolve(definitions.resolve_asset_graph())),
        tags=tags, raise_on_error=False,
    )
    print(f"registry, FIOKO lists, passports, reviews: {'ok' if reference.success else 'FAILED'}")
    ok = reference.success
    for campaign in campaigns_in_landing(landing_dir):
        result = ingest_job.execute_in_process(instance=instance, partition_key=campaign, tags=tags,
                                               raise_on_error=False)
        print(f"campaign {campaign}: {'ok' if result.success else 'FAILED'}")
        ok &= result.success
    with duckdb.connect(str(warehouse), read_only=True) as con:
        state = input_state(con, landing_dir)
    up_to_date, reason = is_up_to_date(warehouse, publish_dir, state)
    if not force and up_to_date:
        print(f"monitoring: up to date, {reason} (use --force to rebuild)")
        return ok
    if not force:
        print(f"monitoring: rebuilding, {reason}")
    result = monitoring_job.execute_in_process(instance=instance, tags=tags, raise_on_error=False)
    print(f"monitoring: {'ok' if result.success else 'FAILED'}")
    return ok and result.success


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.run", description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="rebuild the marts and publish even if nothing changed")
    args = parser.parse_args(argv)
    # Dagster captures the process's output while steps run; a line still buffered then would land in a
    # step's log instead of the terminal.
    sys.stdout.reconfigure(line_buffering=True)
    warehouse = Path(os.environ["WAREHOUSE_PATH"])
    warehouse.parent.mkdir(parents=True, exist_ok=True)  # a WAREHOUSE_PATH of one's own works on the first run
    publish_dir = Path(os.environ["PUBLISH_DIR"]) if os.environ.get("PUBLISH_DIR") else None
    try:
        ok = run_pipeline(Path(os.environ["LANDING_DIR"]), warehouse, force=args.force, publish_dir=publish_dir)
    except RunRefused as refused:
        print(f"not started: {refused}", file=sys.stderr)
        return 2
    print(f"working database: {warehouse}")
    print(f"published marts:  {os.environ.get('PUBLISH_DIR', '(not configured)')}/current")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
