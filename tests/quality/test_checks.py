"""Great Expectations checks as Dagster asset checks: results, severities, schools and Data Docs."""

from pathlib import Path
from urllib.parse import urlparse

import dagster as dg

from pipelines.defs.quality.checks import DOCS_METADATA_KEY, MAX_LISTED_ROWS, SCHOOLS_METADATA_KEY, SUITE_SPECS
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
    schools = evaluation.metadata[SCHOOLS_METADATA_KEY].value.splitlines()
    named = [line for line in schools if line.startswith("sch860021 — ")]  # jump-then-fall, not reviewed
    # The jump year, with the school's name from the registry (persistent evidence may flag a year beside it).
    assert any(line.endswith(" (2023)") for line in named) and all("«" in line for line in named)
    rows = markdown_rows(evaluation.metadata[f"строки с ошибкой (до {MAX_LISTED_ROWS})"].value)
    assert 0 < len(rows) <= MAX_LISTED_ROWS
    keys = {(row["логин ОО"], int(row["год"]), row["работа"], row["признак"]) for row in rows}
    # The listed rows are flags still awaiting review, as many as the list holds.
    pending = sample.query(
        "select login, year, work_code, sign from objectivity.mart_objectivity_flags "
        "where flagged and status = 'на проверке'"
    )
    pending_keys = {(login, int(year), work, sign) for login, year, work, sign in pending.itertuples(index=False)}
    assert keys <= pending_keys and len(rows) == min(MAX_LISTED_ROWS, len(pending_keys))
    assert DISMISSED not in keys and CONFIRMED not in keys  # decided: no longer a failure


def markdown_rows(table: str) -> list[dict[str, str]]:
    lines = [line.strip().strip("|") for line in table.strip().splitlines()]
    header = [cell.strip() for cell in lines[0].split("|")]
    return [dict(zip(header, (cell.strip() for cell in line.split("|")))) for line in lines[2:]]


def test_data_docs_are_built_locally_and_linked(sample):
    evaluation = latest_evaluations(sample)["raw_vpr_results"]
    url = evaluation.metadata[DOCS_METADATA_KEY].value
    assert url.startswith("file://")
    page = Path(urlparse(url).path)
    assert page.is_file() and page.is_relative_to(sample.publish_dir.parent / "gx_docs")
    assert (sample.publish_dir.parent / "gx_docs" / "index.html").is_file()


def test_checks_and_expectations_are_described_in_russian(sample):
    """Each suite check is described by its Russian title; a failed expectation is named in Russian."""
    from pipelines.definitions import defs

    specs = defs().resolve_asset_graph().asset_check_keys
    described = {spec.name: spec.check_description for spec in SUITE_SPECS}
    for spec in SUITE_SPECS:
        assert dg.AssetCheckKey(spec.asset_key, spec.name) in specs
        assert spec.title and any("а" <= ch <= "я" for ch in spec.title.lower()), spec.name
        assert described[spec.name].startswith(spec.title + ". ")
    evaluation = latest_evaluations(sample)["objectivity_flags"]
    assert evaluation.description.startswith("Не выполнено ожиданий: ")
    failed = evaluation.metadata["не выполнены"].value.splitlines()
    assert failed and all("нет признаков на проверке — не выполнено в строках: " in line for line in failed)
    assert not any("expect_" in line for line in failed)
