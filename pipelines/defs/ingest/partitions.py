"""The campaign partitions of participant results (ВПР, ГИА); see `pipelines.ingest.campaigns`."""

import dagster as dg

from pipelines.ingest.campaigns import CAMPAIGN_KEYS

CAMPAIGNS = dg.StaticPartitionsDefinition(list(CAMPAIGN_KEYS))
