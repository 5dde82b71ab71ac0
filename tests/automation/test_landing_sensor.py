"""The landing-folder sensor: which runs new, changed and half-written files start."""

import os
import time

import dagster as dg
import pytest

from pipelines.defs.automation.landing_sensor import LOADED_RESULTS, landing_folder_sensor
from pipelines.defs.ingest.partitions import CAMPAIGNS
from pipelines.defs.resources import Folder

AN_HOUR_AGO = time.time() - 3600


def put(landing, relative: str, content: bytes = b"x", mtime: float = AN_HOUR_AGO) -> None:
    path = landing / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    os.utime(path, (mtime, mtime))


@pytest.fixture
def landing(tmp_path):
    folder = tmp_path / "landing"
    put(folder, "registry/schools.xlsx")
    put(folder, "vpr/2023/sch860001_MA5.xlsx")
    put(folder, "gia/gia_2023.csv")
    put(folder, "ground_truth/planted.csv")  # not an input
    return folder


@pytest.fixture
def instance(tmp_path):
    with dg.instance_for_test(temp_dir=str(tmp_path)) as test_instance:
        yield test_instance


def tick(instance, landing, cursor=None) -> dg.SensorResult:
    context = dg.build_sensor_context(
        instance=instance, cursor=cursor, resources={"landing": Folder(path=str(landing))}
    )
    return landing_folder_sensor(context)


def requested(result) -> list[tuple[str, str | None]]:
    return [(r.job_name, r.partition_key) for r in result.run_requests]


def test_new_files_start_their_campaign_then_monitoring(instance, landing):
    first = tick(instance, landing)
    assert requested(first) == [("ingest_campaign_job", "2022-2023/H2"), ("monitoring_job", None)]
    assert [r.partition_keys for r in first.dynamic_partitions_requests] == [["2022-2023/H2"]]
    instance.add_dynamic_partitions(CAMPAIGNS.name, ["2022-2023/H2"])  # what the daemon does with the request
    again = tick(instance, landing, first.cursor)
    assert again.run_requests == [] and not again.dynamic_partitions_requests

    put(landing, "gia/gia_2024.csv")
    second = tick(instance, landing, first.cursor)
    assert requested(second) == [("ingest_campaign_job", "2023-2024/H2"), ("monitoring_job", None)]

    put(landing, "reviews/reviews.csv", b"login;year")
    third = tick(instance, landing, second.cursor)
    assert requested(third) == [("monitoring_job", None)]

    os.remove(landing / "ground_truth" / "planted.csv")
    put(landing, "ground_truth/other.csv")
    assert tick(instance, landing, third.cursor).run_requests == []


def test_a_file_still_being_written_waits_for_a_later_tick(instance, landing):
    first = tick(instance, landing)
    put(landing, "vpr/2023/sch860002_RU5.xlsx", mtime=time.time())
    waiting = tick(instance, landing, first.cursor)
    assert waiting.run_requests == []
    os.utime(landing / "vpr/2023/sch860002_RU5.xlsx", (AN_HOUR_AGO, AN_HOUR_AGO))
    settled = tick(instance, landing, waiting.cursor)
    assert requested(settled) == [("ingest_campaign_job", "2022-2023/H2"), ("monitoring_job", None)]


def test_first_tick_after_results_were_loaded_only_records_the_folder(instance, landing):
    instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=LOADED_RESULTS))
    first = tick(instance, landing)
    assert first.run_requests == [] and first.cursor
    put(landing, "vpr/2023/sch860001_MA5.xlsx", b"changed")
    assert requested(tick(instance, landing, first.cursor))[0] == ("ingest_campaign_job", "2022-2023/H2")
