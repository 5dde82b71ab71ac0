"""dbt's per-run artifacts (≈13 MB) do not pile up under dbt_project/target."""

import dagster as dg

from pipelines.defs.dbt.project import RUN_TARGETS
from pipelines.runs import clean_dbt_targets


def test_a_finished_run_leaves_no_dbt_artifacts(sample):
    instance = sample.instance()
    runs = [r.dagster_run for r in instance.get_run_records(dg.RunsFilter(job_name="monitoring_job"))]
    assert runs and all(r.status == dg.DagsterRunStatus.SUCCESS for r in runs)
    assert not [r.run_id for r in runs if (RUN_TARGETS / r.run_id).exists()]
    manifest = RUN_TARGETS.parent / "manifest.json"
    assert manifest.is_file()  # what the code location loads stays


def test_a_build_keeps_its_parse_state_for_the_next_build(sample):
    """The sample's warehouse path differs from the one `make setup` parsed with: without the state the
    last build kept, every build would parse the whole project again."""
    [last] = sample.instance().get_run_records(dg.RunsFilter(job_name="monitoring_job"), limit=1)
    kept = RUN_TARGETS.parent / "partial_parse.msgpack"
    assert kept.stat().st_mtime >= last.start_time
    assert not list(kept.parent.glob("partial_parse.msgpack.*"))  # no half-copied file left beside it


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
