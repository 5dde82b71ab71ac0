"""The campaign partitions of participant results (ВПР, ГИА); see `pipelines.ingest.campaigns`.

Dynamic: a campaign becomes a partition when a file of it is found in the landing folder (by `make run`
and by the landing sensor), so the UI lists the campaigns that exist, not every half-year a key could name.
"""

import dagster as dg

CAMPAIGNS = dg.DynamicPartitionsDefinition(name="campaigns")


def register_campaigns(instance: dg.DagsterInstance, campaigns: list[str]) -> list[str]:
    """Adds the campaigns that are not partitions yet; returns them."""
    new = [campaign for campaign in campaigns if not instance.has_dynamic_partition(CAMPAIGNS.name, campaign)]
    if new:
        instance.add_dynamic_partitions(CAMPAIGNS.name, new)
    return new
