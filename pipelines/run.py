"""Runs the whole pipeline on the configured landing folder: `python -m pipelines.run`.

The registry, FIOKO lists and passports are loaded first (participant results are checked against the
registry), then each campaign found in the landing folder is ingested as its own partition, then the
rest (dbt models, checks, publication) runs once. Runs are recorded
in the Dagster instance at $DAGSTER_HOME, so they show in the UI (`make dev`) like scheduled runs.
"""

import os
import sys
from pathlib import Path

import dagster as dg

from pipelines.defs.automation.jobs import REFERENCE_INGEST_SELECTION
from pipelines.defs.ingest.campaigns import campaigns_in_landing


def run_pipeline(landing_dir: Path) -> bool:
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
    print(f"registry, FIOKO lists, passports: {'ok' if reference.success else 'FAILED'}")
    ok = reference.success
    for campaign in campaigns_in_landing(landing_dir):
        result = ingest_job.execute_in_process(instance=instance, partition_key=campaign, raise_on_error=False)
        print(f"campaign {campaign}: {'ok' if result.success else 'FAILED'}")
        ok &= result.success
    result = monitoring_job.execute_in_process(instance=instance, raise_on_error=False)
    print(f"monitoring: {'ok' if result.success else 'FAILED'}")
    return ok and result.success


def main() -> int:
    landing = Path(os.environ["LANDING_DIR"])
    ok = run_pipeline(landing)
    print(f"working database: {os.environ['WAREHOUSE_PATH']}")
    print(f"published marts:  {os.environ.get('PUBLISH_DIR', '(not configured)')}/current")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
