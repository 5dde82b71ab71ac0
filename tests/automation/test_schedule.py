"""The twice-yearly schedule and the jobs: cron from config/automation.yml, Moscow time, right selections."""

import datetime as dt
import os
import sys
from pathlib import Path

import dagster as dg
import yaml

from pipelines.definitions import defs
from pipelines.defs.automation.schedules import monitoring_schedule
from pipelines.defs.automation.settings import AUTOMATION_CONFIG


def test_schedule_follows_the_configuration():
    config = yaml.safe_load(AUTOMATION_CONFIG.read_text(encoding="utf-8"))["monitoring_schedule"]
    assert monitoring_schedule.cron_schedule == config["cron"] == "0 6 1 3,11 *"
    assert monitoring_schedule.execution_timezone == "Europe/Moscow"
    assert monitoring_schedule.job_name == "monitoring_job"
    assert monitoring_schedule.default_status == dg.DefaultScheduleStatus.RUNNING


def test_schedule_fires_in_march_and_november():
    from dagster._utils.schedules import cron_string_iterator

    start = dt.datetime(2025, 1, 1).timestamp()
    fires = cron_string_iterator(start, monitoring_schedule.cron_schedule, "Europe/Moscow")
    first_four = [next(fires) for _ in range(4)]
    assert [(d.year, d.month, d.day, d.hour) for d in first_four] == [
        (2025, 3, 1, 6),
        (2025, 11, 1, 6),
        (2026, 3, 1, 6),
        (2026, 11, 1, 6),
    ]


def test_raw_suites_run_in_the_monitoring_job_not_in_campaign_ingestion(monkeypatch):
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")  # the dbt executable
    definitions = defs()
    monitoring = definitions.resolve_job_def("monitoring_job").graph.node_names()
    ingest = definitions.resolve_job_def("ingest_campaign_job").graph.node_names()
    raw_check_op = "raw__vpr_results_raw_vpr_results"
    assert raw_check_op in monitoring and raw_check_op not in ingest
    assert "publication" in monitoring and "publication" not in ingest
    sensors = {s.name: s for s in definitions.sensors}
    assert sensors["landing_folder_sensor"].default_status == dg.DefaultSensorStatus.RUNNING
    assert sensors["check_failure_alert_sensor"].default_status == dg.DefaultSensorStatus.RUNNING
