"""A run killed with SIGKILL mid-way does not block the next one: it is found, failed and its slot freed."""

import os
import signal
import subprocess
import sys
import time

import dagster as dg

from pipelines.defs.dbt.project import RUN_TARGETS
from tests.conftest import REPO_ROOT
from tests.quality.sample_run import copy_run, environment, patched_environ

POOL = "duckdb_writer"


def dbt_build_started(instance) -> dg.DagsterRun | None:
    """The monitoring run whose dbt build is under way (dbt has created its artifact folder)."""
    for record in instance.get_run_records(dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED])):
        if (RUN_TARGETS / record.dagster_run.run_id).is_dir():
            return record.dagster_run
    return None


def test_a_run_killed_during_the_dbt_build_is_recovered_by_the_next_run(sample, tmp_path):
    copy_run(sample, tmp_path)
    env = environment(tmp_path, sample.landing)
    with patched_environ({"DAGSTER_HOME": env["DAGSTER_HOME"]}):
        instance = dg.DagsterInstance.get()
    log = (tmp_path / "killed.log").open("w")
    child = subprocess.Popen(
        [sys.executable, "-m", "pipelines.run", "--force"],
        env=env,
        cwd=REPO_ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    killed = None
    deadline = time.monotonic() + 900  # a guard against a hung test, not a measurement
    while killed is None and child.poll() is None and time.monotonic() < deadline:
        killed = dbt_build_started(instance)
        time.sleep(0.2)
    assert killed is not None, (tmp_path / "killed.log").read_text()[-3000:]
    os.killpg(child.pid, signal.SIGKILL)  # the whole `make run`: the pipeline and its dbt process
    child.wait()

    assert instance.get_run_by_id(killed.run_id).status == dg.DagsterRunStatus.STARTED
    assert killed.run_id in instance.event_log_storage.get_concurrency_info(POOL).active_run_ids
    assert (RUN_TARGETS / killed.run_id).is_dir()

    after = subprocess.run(
        [sys.executable, "-m", "pipelines.run"], env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=1200
    )
    assert after.returncode in (0, 3), after.stdout[-3000:] + after.stderr[-3000:]
    assert f"восстановлен запуск {killed.run_id[:8]} (monitoring_job, STARTED): его процесса" in after.stdout
    assert "освобождено мест в пуле: 1" in after.stdout
    assert "найдена оставленная блокировка запуска" in after.stdout
    assert "удалено папок артефактов dbt, оставленных прежними запусками: 1 " in after.stdout
    # the killed dbt build had cleared the record of the published marts: the marts are rebuilt
    assert "выполняются (витрины рабочей базы пересобраны" in after.stdout
    assert "3. проверки, модели dbt, публикация: готово" in after.stdout
    assert instance.get_run_by_id(killed.run_id).status == dg.DagsterRunStatus.FAILURE
    assert not instance.event_log_storage.get_concurrency_info(POOL).active_run_ids
    assert not (RUN_TARGETS / killed.run_id).exists()
    assert not [p for p in RUN_TARGETS.glob("*") if instance.get_run_by_id(p.name)]
