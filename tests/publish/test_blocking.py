"""A failing data-quality expectation blocks publication; the previous release stays byte-identical."""

import hashlib
import os

import dagster as dg
import duckdb

from pipelines.definitions import defs
from pipelines.defs.publish.release import CURRENT
from tests.quality.sample_run import copy_run, patched_environ, run_monitoring_job


def fingerprint(publish_dir) -> dict[str, str]:
    """Every file and link under the publication folder, by content."""
    found = {}
    for root, dirs, files in os.walk(publish_dir):
        for name in dirs + files:
            path = os.path.join(root, name)
            relative = os.path.relpath(path, publish_dir)
            if os.path.islink(path):
                found[relative] = "link:" + os.readlink(path)
            elif os.path.isfile(path):
                with open(path, "rb") as handle:
                    found[relative] = hashlib.sha256(handle.read()).hexdigest()
    return found


def check_outcomes(result: dg.ExecuteInProcessResult) -> dict[str, bool]:
    return {
        e.asset_check_evaluation_data.check_name: e.asset_check_evaluation_data.passed
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    }


def published(result: dg.ExecuteInProcessResult) -> set[str]:
    return {
        e.asset_key.to_user_string()
        for e in result.all_events
        if e.event_type_value == "ASSET_MATERIALIZATION" and e.asset_key.path[0] == "publish"
    }


def test_bad_raw_results_stop_the_build_and_the_publication(sample, tmp_path):
    run = copy_run(sample, tmp_path)
    with duckdb.connect(str(run.warehouse)) as con:
        con.execute("update raw.vpr_results set mark = 7 where rowid = (select min(rowid) from raw.vpr_results)")
    before = fingerprint(run.publish_dir)
    with patched_environ(run.env):
        result = run_monitoring_job(run.instance())
    assert not result.success
    assert check_outcomes(result)["raw_vpr_results"] is False
    assert not published(result)
    materialized = {e.asset_key.path[0] for e in result.all_events if e.event_type_value == "ASSET_MATERIALIZATION"}
    assert "marts" not in materialized and "objectivity" not in materialized  # dbt did not run either
    assert fingerprint(run.publish_dir) == before
    assert (run.publish_dir / CURRENT).resolve().is_dir()


def test_bad_mart_stops_the_publication(sample, tmp_path):
    run = copy_run(sample, tmp_path)
    with duckdb.connect(str(run.warehouse)) as con:
        con.execute(
            "update marts.mart_school_work_indicators set pass_rate_pct = 140 "
            "where rowid = (select min(rowid) from marts.mart_school_work_indicators where pass_rate_pct is not null)"
        )
    before = fingerprint(run.publish_dir)
    checked = dg.AssetKey(["marts", "mart_school_work_indicators"])
    job = dg.define_asset_job(
        "audit_and_publish",
        selection=dg.AssetSelection.checks(dg.AssetCheckKey(checked, "marts_school_work_indicators"))
        | dg.AssetSelection.groups("publish"),
    )
    with patched_environ(run.env):
        definitions = dg.Definitions.merge(defs(), dg.Definitions(jobs=[job]))
        result = definitions.resolve_job_def("audit_and_publish").execute_in_process(
            instance=run.instance(), raise_on_error=False
        )
    assert check_outcomes(result) == {"marts_school_work_indicators": False}
    assert not published(result)
    assert fingerprint(run.publish_dir) == before


def test_a_passing_audit_publishes_a_new_release(sample, tmp_path):
    run = copy_run(sample, tmp_path)
    previous = (run.publish_dir / CURRENT).resolve()
    job = dg.define_asset_job("publish_only", selection=dg.AssetSelection.groups("publish"))
    with patched_environ(run.env):
        definitions = dg.Definitions.merge(defs(), dg.Definitions(jobs=[job]))
        result = definitions.resolve_job_def("publish_only").execute_in_process(instance=run.instance())
    assert result.success and published(result)
    assert (run.publish_dir / CURRENT).resolve() != previous
    assert previous.is_dir()  # kept: an analyst may still have it open
