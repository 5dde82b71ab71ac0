"""The twice-yearly monitoring run (config/automation.yml; default 06:00 Moscow time on 1 March and 1 November)."""

import dagster as dg

from pipelines.defs.automation.jobs import monitoring_job
from pipelines.defs.automation.settings import MONITORING_CRON, MONITORING_TIMEZONE

monitoring_schedule = dg.ScheduleDefinition(
    name="monitoring_schedule",
    job=monitoring_job,
    cron_schedule=MONITORING_CRON,
    execution_timezone=MONITORING_TIMEZONE,
    # Running by default: the cadence is the authority's, and `make dev` is how the pipeline is operated.
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description=(
        "Monitoring run on the authority's cadence: registry, FIOKO lists, passports, marts, checks, publication."
    ),
)


@dg.definitions
def schedules() -> dg.Definitions:
    return dg.Definitions(schedules=[monitoring_schedule])
