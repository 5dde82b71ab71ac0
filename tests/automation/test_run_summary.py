"""`make run`'s terminal output: a line per stage and a short Russian summary whose figures match the warehouse."""

import json
import re
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb

from pipelines.run import REPOSITORY_LABEL, REPOSITORY_LABEL_TAG
from pipelines.summary import EXIT_CODES, WARNINGS
from tests.conftest import REPO_ROOT
from tests.quality.sample_run import patched_environ


def test_the_output_is_short_and_ends_with_the_status(made_run):
    root, _, _, done = made_run
    lines = done.stdout.splitlines()
    assert len(lines) < 60, done.stdout
    assert done.returncode == EXIT_CODES[WARNINGS], done.stdout + done.stderr[-2000:]  # the sample's flags warn
    assert lines[-1] == "Статус: ok with warnings (успешно, есть предупреждения), код выхода 3"
    assert "DEBUG" not in done.stdout and " - dagster - " not in done.stdout and "[RUN]" not in done.stdout
    assert any(line.startswith("3. проверки, модели dbt, публикация: готово") for line in lines)
    log = (root / "run.log").read_text(encoding="utf-8")
    assert "RUN_SUCCESS" in log and "STEP_SUCCESS" in log  # the detail went to the log file
    assert f"Подробный журнал Dagster и dbt: {root / 'run.log'}" in lines


def test_the_figures_match_the_warehouse_and_the_release(made_run):
    root, landing, env, done = made_run
    out = done.stdout
    with duckdb.connect(env["WAREHOUSE_PATH"], read_only=True) as con:
        files = dict(
            con.execute(
                "select source, count(*) from ops.loaded_files where status = 'loaded' group by source"
            ).fetchall()
        )
    from pipelines.ingest.sources import SOURCES

    for source, count in files.items():  # a first run: every file is loaded, none unchanged or quarantined
        assert f"  {SOURCES[source].title}: {count} / {count} / 0 / 0" in out
    release_dir = (root / "published" / "current").resolve()
    release = json.loads((release_dir / "manifest.json").read_text())["release"]
    assert f"Выпуск {release} (опубликован в этом запуске):" in out
    assert str(release_dir / "monitoring.xlsx") in out
    assert str(release_dir / "README.txt") in out and str(release_dir / "data_docs" / "index.html") in out
    with duckdb.connect(str(release_dir / "monitoring.duckdb"), read_only=True) as con:
        [(year, shnor)] = con.execute(
            "select year, count(*) filter (where is_shnor_computed) from school_flags "
            "where year = (select max(year) from school_flags) group by year"
        ).fetchall()
        [(pending,)] = con.execute(
            "select count(distinct login) from objectivity_flags where status = 'на проверке'"
        ).fetchall()
    assert f"  ШНОР в {year} году: {shnor}; прежнего выпуска нет" in out
    assert f"  с признаками необъективности на проверке: {pending};" in out
    with patched_environ({"DAGSTER_HOME": env["DAGSTER_HOME"]}):
        instance = dg.DagsterInstance.get()
        from pipelines.definitions import defs
        from pipelines.defs.automation.alerts import failed_checks_since

        failed = failed_checks_since(instance, defs().resolve_asset_graph().asset_check_keys, 0)
    warnings = sum(f.severity != "ERROR" for f in failed)
    errors = len(failed) - warnings
    assert f"Проверки не пройдены: ошибок {errors}, предупреждений {warnings}" in out
    assert warnings >= 1  # objectivity flags await review in the sample


def test_runs_carry_the_code_location_label_the_job_page_filters_by(made_run):
    _, _, env, _ = made_run
    with patched_environ({"DAGSTER_HOME": env["DAGSTER_HOME"]}):
        instance = dg.DagsterInstance.get()
        runs = instance.get_runs(
            dg.RunsFilter(job_name="monitoring_job", tags={REPOSITORY_LABEL_TAG: REPOSITORY_LABEL})
        )
        every = instance.get_runs()
    assert runs and len(every) == len([r for r in every if r.tags.get(REPOSITORY_LABEL_TAG) == REPOSITORY_LABEL])


def test_the_label_is_the_one_of_the_workspace(tmp_path):
    """The label is what Dagster gives runs launched from the UI: repository @ code location of workspace.yaml."""
    from dagster._core.workspace.context import WorkspaceProcessContext
    from dagster._core.workspace.load_target import WorkspaceFileTarget

    home = tmp_path / "home"
    home.mkdir()
    with patched_environ({"DAGSTER_HOME": str(home)}):
        instance = dg.DagsterInstance.get()
        with WorkspaceProcessContext(instance, WorkspaceFileTarget([str(REPO_ROOT / "workspace.yaml")])) as context:
            request = context.create_request_context()
            labels = {
                repo.get_remote_origin().get_label()
                for name in request.get_code_location_entries()
                for repo in request.get_code_location(name).get_repositories().values()
            }
    assert labels == {REPOSITORY_LABEL}


def test_a_second_run_reports_files_unchanged(made_run):
    root, _, env, first = made_run
    again = subprocess.run(
        [sys.executable, "-m", "pipelines.run"], env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=900
    )
    assert again.returncode == EXIT_CODES[WARNINGS], again.stdout + again.stderr[-2000:]
    rows = re.findall(r"^  .+: (\d+) / (\d+) / (\d+) / (\d+)$", again.stdout, flags=re.M)
    assert rows and all(loaded == "0" and found == unchanged for found, loaded, unchanged, _ in rows)
    assert "(прежний, данные не изменились)" in again.stdout
    # nothing ran, so the definitions were not loaded: the checks are those the runs behind the state planned
    assert any(line.startswith("3. проверки, модели dbt, публикация: не нужны") for line in again.stdout.splitlines())
    checks_line = re.compile(r"^Проверки не пройдены: .*$", flags=re.M)
    assert checks_line.findall(again.stdout) == checks_line.findall(first.stdout)
    shown = re.compile(r"^  (?:ошибка|предупреждение): .*$", flags=re.M)
    assert shown.findall(again.stdout) == shown.findall(first.stdout) != []


def test_the_monitoring_run_leaves_out_stage_1_whose_checks_the_summary_still_finds(made_run):
    """Stage 3 does not load the reference files again after stage 1; a later run that finds nothing to do
    reports their checks from the stage-1 run."""
    from pipelines.definitions import defs
    from pipelines.defs.automation.alerts import checks_planned_by
    from pipelines.defs.automation.jobs import REFERENCE_INGEST_SELECTION
    from pipelines.run import REFERENCE_STAGE, STAGE_TAG, state_runs

    _, landing, env, _ = made_run
    graph = defs().resolve_asset_graph()
    reference = REFERENCE_INGEST_SELECTION.resolve(graph)
    reference_checks = {key for key in graph.asset_check_keys if key.asset_key in reference}
    assert reference and reference_checks
    with patched_environ({"DAGSTER_HOME": env["DAGSTER_HOME"]}):
        instance = dg.DagsterInstance.get()
        [stage_1] = instance.get_runs(dg.RunsFilter(job_name="monitoring_job", tags={STAGE_TAG: REFERENCE_STAGE}))
        [monitoring] = [
            run for run in instance.get_runs(dg.RunsFilter(job_name="monitoring_job")) if STAGE_TAG not in run.tags
        ]
        built = {
            record.event_log_entry.dagster_event.event_specific_data.asset_key
            for record in instance.get_records_for_run(
                monitoring.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED
            ).records
        }
        state = state_runs(instance, Path(env["WAREHOUSE_PATH"]), landing)
        planned = checks_planned_by(instance, state)
    assert built and not built & reference
    assert not checks_planned_by(instance, [monitoring.run_id]) & reference_checks
    assert stage_1.run_id in state and reference_checks <= planned
