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
