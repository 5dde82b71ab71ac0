"""Runs the whole pipeline on the configured landing folder: `python -m pipelines.run [--force]`.

The registry, FIOKO lists and passports are loaded first (participant results are checked against the
registry), then each campaign found in the landing folder is ingested as its own partition, then the
rest (dbt models, checks, publication) runs once. Runs are recorded in the Dagster instance at
$DAGSTER_HOME, so they show in the UI (`make dev`) like scheduled runs.

When nothing the monitoring job reads has changed since its last successful run — the versions of the
loaded files, the review file, the dbt project, the suites and the publication settings — the marts
and the publication are already up to date and the monitoring job is not run again.
"""

import argparse
import hashlib
import os
import sys
from pathlib import Path

import dagster as dg
import duckdb

from pipelines.defs.automation.jobs import REFERENCE_INGEST_SELECTION
from pipelines.ingest.campaigns import campaigns_in_landing

REPO_ROOT = Path(__file__).resolve().parents[1]
INPUT_STATE_TAG = "monitoring/input_state"
STATE_GLOBS = ("dbt_project/dbt_project.yml", "dbt_project/models/**/*", "dbt_project/seeds/**/*",
               "dbt_project/macros/**/*", "dbt_project/tests/**/*", "expectations/*.json", "config/publication.yml")


def input_state(warehouse: Path, landing_dir: Path) -> str:
    """Fingerprint of everything the monitoring job reads."""
    digest = hashlib.sha256()
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for row in con.execute("select source, file, sha256, status from ops.loaded_files order by all").fetchall():
            digest.update(repr(row).encode())
    reviews = landing_dir / "reviews" / "reviews.csv"
    config_files = sorted(path for pattern in STATE_GLOBS for path in REPO_ROOT.glob(pattern) if path.is_file())
    for path in [*config_files, reviews]:
        digest.update(path.read_bytes() if path.exists() else b"-")
    return digest.hexdigest()


def is_up_to_date(instance: dg.DagsterInstance, state: str) -> bool:
    """True when a monitoring run already succeeded on exactly these inputs."""
    records = instance.get_run_records(
        dg.RunsFilter(job_name="monitoring_job", statuses=[dg.DagsterRunStatus.SUCCESS],
                      tags={INPUT_STATE_TAG: state}),
        limit=1,
    )
    return bool(records)


def run_pipeline(landing_dir: Path, warehouse: Path, force: bool = False) -> bool:
    """Materialises every campaign's ingestion and then the rest; True when every run succeeded."""
    from pipelines.definitions import defs

    definitions = defs()
    instance = dg.DagsterInstance.get()
    ingest_job = definitions.resolve_job_def("ingest_campaign_job")
    monitoring_job = definitions.resolve_job_def("monitoring_job")
    reference = monitoring_job.execute_in_process(
        instance=instance, asset_selection=list(REFERENCE_INGEST_SELECTION.resolve(definitions.resolve_asset_graph())),
        raise_on_error=False,
    )
    print(f"registry, FIOKO lists, passports, reviews: {'ok' if reference.success else 'FAILED'}")
    ok = reference.success
    for campaign in campaigns_in_landing(landing_dir):
        result = ingest_job.execute_in_process(instance=instance, partition_key=campaign, raise_on_error=False)
        print(f"campaign {campaign}: {'ok' if result.success else 'FAILED'}")
        ok &= result.success
    state = input_state(warehouse, landing_dir)
    if not force and is_up_to_date(instance, state):
        print("monitoring: up to date, nothing new since the last successful run (use --force to rebuild)")
        return ok
    result = monitoring_job.execute_in_process(instance=instance, tags={INPUT_STATE_TAG: state}, raise_on_error=False)
    print(f"monitoring: {'ok' if result.success else 'FAILED'}")
    return ok and result.success


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.run", description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="rebuild the marts and publish even if nothing changed")
    args = parser.parse_args(argv)
    warehouse = Path(os.environ["WAREHOUSE_PATH"])
    warehouse.parent.mkdir(parents=True, exist_ok=True)  # a WAREHOUSE_PATH of one's own works on the first run
    ok = run_pipeline(Path(os.environ["LANDING_DIR"]), warehouse, force=args.force)
    print(f"working database: {warehouse}")
    print(f"published marts:  {os.environ.get('PUBLISH_DIR', '(not configured)')}/current")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
