"""Starts runs when files land in the landing folder or change there.

The cursor keeps one fingerprint per group of files: a campaign (its ВПР and ГИА files, loaded by a
partition of ``ingest_campaign_job``) or everything else (registry, FIOKO lists, passports, reviews,
loaded by ``monitoring_job``). A fingerprint is a hash of the group's paths, sizes and modification
times, so the cursor stays small at any scale. A changed campaign gets its ingestion run; any change
gets a monitoring run, queued after it (the instance runs one run at a time), to rebuild the marts.

A group with a file modified in the last ``settle_seconds`` is left for a later tick: a file still being
copied must not be read half-written. On its very first tick the sensor only records the folder when
the instance has already loaded results (``make run`` before ``make dev``), and loads everything when
it has not.
"""

import hashlib
import json
import time
from collections import defaultdict
from pathlib import Path

import dagster as dg

from pipelines.defs.automation.jobs import ingest_campaign_job, monitoring_job
from pipelines.defs.automation.settings import LANDING_INTERVAL_SECONDS, LANDING_SETTLE_SECONDS
from pipelines.defs.ingest.partitions import CAMPAIGNS
from pipelines.defs.quality.reviews import REVIEWS_FILE
from pipelines.defs.resources import Folder
from pipelines.ingest.campaigns import CAMPAIGN_KEYS, campaign_of_file
from pipelines.ingest.sources import SOURCES, discover

MONITORING_GROUP = "monitoring"
LOADED_RESULTS = dg.AssetKey(["raw", "vpr_results"])


def watched_files(root: Path) -> dict[str, str]:
    """Every input file the pipeline reads, relative to the landing folder → its group."""
    valid_campaigns = set(CAMPAIGN_KEYS)
    files = {}
    for source in SOURCES.values():
        for relative in discover(root, source):
            campaign = campaign_of_file(relative, root) if source.partitioned else None
            files[relative] = campaign if campaign in valid_campaigns else MONITORING_GROUP
    if (root / REVIEWS_FILE).is_file():
        files[REVIEWS_FILE] = MONITORING_GROUP
    return files


def fingerprints(root: Path, now: float, settle_seconds: float) -> tuple[dict[str, str], set[str]]:
    """Fingerprint per group, and the groups with a file too recent to read yet."""
    entries: dict[str, list[str]] = defaultdict(list)
    settling = set()
    for relative, group in watched_files(root).items():
        stat = (root / relative).stat()
        if now - stat.st_mtime < settle_seconds:
            settling.add(group)
        entries[group].append(f"{relative}\t{stat.st_size}\t{stat.st_mtime_ns}")
    digests = {
        group: hashlib.sha256("\n".join(sorted(lines)).encode()).hexdigest()[:16] for group, lines in entries.items()
    }
    return digests, settling


def changed_groups(previous: dict[str, str], current: dict[str, str], settling: set[str]) -> set[str]:
    """Groups added, changed or emptied since the cursor, except those still being written."""
    return {g for g in previous.keys() | current.keys() if previous.get(g) != current.get(g)} - settling


def run_requests(changed: set[str], current: dict[str, str]) -> list[dg.RunRequest]:
    """Ingestion of each changed campaign, oldest first, then one monitoring run."""
    if not changed:
        return []
    campaigns = sorted(changed - {MONITORING_GROUP})
    requests = [
        dg.RunRequest(
            job_name=ingest_campaign_job.name,
            partition_key=campaign,
            run_key=f"{campaign}@{current.get(campaign, 'removed')}",
        )
        for campaign in campaigns
    ]
    state = ",".join(f"{g}@{current.get(g, 'removed')}" for g in sorted(changed))
    requests.append(
        dg.RunRequest(
            job_name=monitoring_job.name,
            run_key=f"monitoring:{state}",
            tags={"landing/changed": ", ".join(sorted(changed))},
        )
    )
    return requests


@dg.sensor(
    name="landing_folder_sensor",
    jobs=[ingest_campaign_job, monitoring_job],
    minimum_interval_seconds=LANDING_INTERVAL_SECONDS,
    # Running by default: people drop files and expect the pipeline to pick them up once `make dev` is up.
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Runs ingestion of the affected campaigns and the monitoring job when landing files change.",
)
def landing_folder_sensor(context: dg.SensorEvaluationContext, landing: Folder) -> dg.SensorResult:
    current, settling = fingerprints(landing.root, time.time(), LANDING_SETTLE_SECONDS)
    # Campaigns with files become partitions before any run of theirs is requested.
    known = set(context.instance.get_dynamic_partitions(CAMPAIGNS.name))
    new = sorted(set(current) - {MONITORING_GROUP} - known)
    partitions = [CAMPAIGNS.build_add_request(new)] if new else []
    if context.cursor is None and context.instance.get_latest_materialization_event(LOADED_RESULTS):
        context.log.info("first tick: results already loaded, recording the landing folder as it is")
        return dg.SensorResult(cursor=json.dumps(current, sort_keys=True), dynamic_partitions_requests=partitions)
    previous = json.loads(context.cursor) if context.cursor else {}
    changed = changed_groups(previous, current, settling)
    if settling:
        context.log.info(f"waiting for files still being written: {', '.join(sorted(settling))}")
    cursor = {g: d for g, d in previous.items() if g not in changed}
    cursor.update({g: current[g] for g in changed if g in current})
    return dg.SensorResult(
        run_requests=run_requests(changed, current),
        cursor=json.dumps(cursor, sort_keys=True),
        dynamic_partitions_requests=partitions,
    )


@dg.definitions
def landing_sensor_defs() -> dg.Definitions:
    return dg.Definitions(sensors=[landing_folder_sensor])
