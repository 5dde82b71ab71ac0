"""Jobs the schedule, the sensors and `make run` launch.

Ingestion of participant results is partitioned by campaign; everything downstream reads all campaigns
and is not partitioned, so a monitoring run is one campaign's ingestion followed by the rest.

The Great Expectations suites on the raw participant tables run in the monitoring job, not in the
ingestion runs: they read every campaign at once, and there, as blocking checks, they stop the dbt build
and the publication of a run whose inputs are bad.
"""

import dagster as dg

from pipelines.defs.quality.checks import check_keys_on

INGEST_CAMPAIGN_ASSETS = [dg.AssetKey(["raw", "vpr_results"]), dg.AssetKey(["raw", "gia_results"])]
RAW_SUITE_CHECKS = dg.AssetSelection.checks(*check_keys_on(INGEST_CAMPAIGN_ASSETS))

INGEST_CAMPAIGN_SELECTION = (
    dg.AssetSelection.groups("ingest") & dg.AssetSelection.assets(*INGEST_CAMPAIGN_ASSETS)
) - RAW_SUITE_CHECKS
# Loaded before any campaign: participant results are checked against the school registry.
REFERENCE_INGEST_SELECTION = dg.AssetSelection.groups("ingest") - dg.AssetSelection.assets(*INGEST_CAMPAIGN_ASSETS)
MONITORING_SELECTION = (dg.AssetSelection.all() - INGEST_CAMPAIGN_SELECTION) | RAW_SUITE_CHECKS

ingest_campaign_job = dg.define_asset_job(
    "ingest_campaign_job",
    selection=INGEST_CAMPAIGN_SELECTION,
    description="Loads one campaign's ВПР and ГИА results from the landing folder.",
)

monitoring_job = dg.define_asset_job(
    "monitoring_job",
    selection=MONITORING_SELECTION,
    description="Loads the registry, FIOKO lists, passports and reviews, checks the raw results, builds the "
    "marts, runs the checks and publishes.",
)


@dg.definitions
def jobs() -> dg.Definitions:
    return dg.Definitions(jobs=[ingest_campaign_job, monitoring_job])
