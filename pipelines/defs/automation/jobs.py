"""Jobs the schedule, the sensors and `make run` launch.

Ingestion of participant results is partitioned by campaign; everything downstream reads all campaigns
and is not partitioned, so a monitoring run is one campaign's ingestion followed by the rest.
"""

import dagster as dg

INGEST_CAMPAIGN_SELECTION = dg.AssetSelection.groups("ingest") & dg.AssetSelection.assets(
    ["raw", "vpr_results"], ["raw", "gia_results"]
)
MONITORING_SELECTION = dg.AssetSelection.all() - INGEST_CAMPAIGN_SELECTION

ingest_campaign_job = dg.define_asset_job(
    "ingest_campaign_job",
    selection=INGEST_CAMPAIGN_SELECTION,
    description="Loads one campaign's ВПР and ГИА results from the landing folder.",
)

monitoring_job = dg.define_asset_job(
    "monitoring_job",
    selection=MONITORING_SELECTION,
    description="Loads the registry, FIOKO lists and social passports, builds the marts, "
    "runs the checks and publishes.",
)


@dg.definitions
def jobs() -> dg.Definitions:
    return dg.Definitions(jobs=[ingest_campaign_job, monitoring_job])
