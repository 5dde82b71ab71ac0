"""Great Expectations checks as Dagster asset checks: results, severities, schools and Data Docs."""

from pathlib import Path
from urllib.parse import urlparse

import dagster as dg

from pipelines.defs.quality.checks import SCHOOLS_METADATA_KEY, SUITE_SPECS
from tests.quality.sample_run import CONFIRMED, DISMISSED


def latest_evaluations(sample) -> dict[str, object]:
    instance = sample.instance()
    keys = [dg.AssetCheckKey(spec.asset_key, spec.name) for spec in SUITE_SPECS]
    records = instance.event_log_storage.get_latest_asset_check_execution_by_key(keys)
    return {key.name: record.event.dagster_event.event_specific_data for key, record in records.items()}


def test_every_committed_suite_ran_in_the_monitoring_job(sample):
    assert set(latest_evaluations(sample)) == {spec.name for spec in SUITE_SPECS}


def test_data_quality_suites_pass_and_are_blocking_errors(sample):
    evaluations = latest_evaluations(sample)
    blocking = [spec.name for spec in SUITE_SPECS if spec.blocking]
    assert {"raw_vpr_results", "marts_school_work_indicators", "objectivity_school_year"} <= set(blocking)
    for name in blocking:
        evaluation = evaluations[name]
        assert evaluation.passed, f"{name}: {evaluation.description}"
        assert evaluation.blocking and evaluation.severity == dg.AssetCheckSeverity.ERROR


def test_objectivity_suite_warns_and_lists_schools_awaiting_review(sample):
    evaluation = latest_evaluations(sample)["objectivity_flags"]
    assert not evaluation.passed
    assert evaluation.severity == dg.AssetCheckSeverity.WARN and not evaluation.blocking
    schools = evaluation.metadata[SCHOOLS_METADATA_KEY].value
    assert "sch860021 (2023)" in schools  # jump-then-fall, not reviewed
    rows = markdown_rows(evaluation.metadata["failing rows"].value)
    keys = {(row["login"], int(row["year"]), row["work_code"], row["sign"]) for row in rows}
    assert ("sch860023", 2023, "RU4", "task_inversion") in keys  # still awaiting review
    assert DISMISSED not in keys and CONFIRMED not in keys  # decided: no longer a failure


def markdown_rows(table: str) -> list[dict[str, str]]:
    lines = [line.strip().strip("|") for line in table.strip().splitlines()]
    header = [cell.strip() for cell in lines[0].split("|")]
    return [dict(zip(header, (cell.strip() for cell in line.split("|")))) for line in lines[2:]]


def test_data_docs_are_built_locally_and_linked(sample):
    evaluation = latest_evaluations(sample)["raw_vpr_results"]
    url = evaluation.metadata["data docs"].value
    assert url.startswith("file://")
    page = Path(urlparse(url).path)
    assert page.is_file() and page.is_relative_to(sample.publish_dir.parent / "gx_docs")
    assert (sample.publish_dir.parent / "gx_docs" / "index.html").is_file()
