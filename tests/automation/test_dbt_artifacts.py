"""dbt's per-run artifacts (≈13 MB) do not pile up under dbt_project/target."""

import os

import dagster as dg

from pipelines.defs.dbt import assets
from pipelines.defs.dbt.assets import KEPT_PARSE_STATES, keep_partial_parse, parse_state
from pipelines.defs.dbt.project import RUN_TARGETS
from pipelines.runs import clean_dbt_targets


def test_a_finished_run_leaves_no_dbt_artifacts(sample):
    instance = sample.instance()
    runs = [r.dagster_run for r in instance.get_run_records(dg.RunsFilter(job_name="monitoring_job"))]
    assert runs and all(r.status == dg.DagsterRunStatus.SUCCESS for r in runs)
    assert not [r.run_id for r in runs if (RUN_TARGETS / r.run_id).exists()]
    manifest = RUN_TARGETS.parent / "manifest.json"
    assert manifest.is_file()  # what the code location loads stays


def test_a_build_keeps_its_parse_state_for_the_next_build_with_its_profile(sample):
    """The sample's warehouse path differs from the one `make setup` parsed with: without the state the
    last build with this profile kept, every build would parse the whole project again."""
    [last] = sample.instance().get_run_records(dg.RunsFilter(job_name="monitoring_job"), limit=1)
    kept = parse_state(str(sample.warehouse), os.environ["DUCKDB_MEMORY_LIMIT"])
    assert kept.stat().st_mtime >= last.start_time
    assert kept != parse_state(str(sample.warehouse.with_name("other.duckdb")), os.environ["DUCKDB_MEMORY_LIMIT"])
    assert not [p for p in kept.parent.iterdir() if p.suffix != ".msgpack"]  # no half-copied file left beside it
    assert len(list(kept.parent.glob("*.msgpack"))) <= KEPT_PARSE_STATES


def test_the_state_of_another_profile_does_not_replace_this_ones(tmp_path, monkeypatch):
    monkeypatch.setattr(assets, "PARSE_STATES", tmp_path / "states")
    run_target = tmp_path / "runs" / "run-b"
    run_target.mkdir(parents=True)
    (run_target / "partial_parse.msgpack").write_bytes(b"state of b")
    mine, other = parse_state(str(tmp_path / "a.duckdb"), "3GB"), parse_state(str(tmp_path / "b.duckdb"), "3GB")
    mine.parent.mkdir(parents=True)
    mine.write_bytes(b"state of a")
    keep_partial_parse(run_target, other)
    assert mine.read_bytes() == b"state of a" and other.read_bytes() == b"state of b"


def test_folders_of_ended_or_old_runs_are_removed_and_others_kept(sample, tmp_path):
    instance = sample.instance()
    ended = instance.get_run_records(dg.RunsFilter(job_name="monitoring_job"), limit=1)[0].dagster_run.run_id
    target = tmp_path / "target"
    for folder in [f"runs/{ended}", "runs/someone-elses-run", f"monitoring_dbt_models-{ended[:7]}-abcdef0"]:
        (target / folder).mkdir(parents=True)
        (target / folder / "run_results.json").write_text("{}")
    (target / "manifest.json").write_text("{}")
    lines = clean_dbt_targets(instance, target)
    assert lines and lines[0].startswith("удалено папок артефактов dbt, оставленных прежними запусками: 2 ")
    assert sorted(p.relative_to(target).as_posix() for p in target.rglob("*")) == [
        "manifest.json",
        "runs",
        "runs/someone-elses-run",
        "runs/someone-elses-run/run_results.json",
    ]
