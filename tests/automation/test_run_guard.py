"""What `make run` checks before it starts: one run at a time, the working database free, one salt."""

import json
import os
import subprocess
import sys

import duckdb
import pytest

from pipelines.ingest.load import SALT_VARIABLE, SaltChanged, load_landing, load_source
from pipelines.run import run_pipeline
from pipelines.runs import RunRefused, lock_path, run_lock, warehouse_lock_problem
from tests.conftest import REPO_ROOT, SAMPLE_DIR
from tests.quality.sample_run import environment, prepare


def test_a_second_run_is_refused_while_one_holds_the_lock(tmp_path):
    landing = prepare(tmp_path)
    env = environment(tmp_path, landing)
    with run_lock(lock_path(tmp_path / "warehouse" / "monitoring.duckdb")):
        second = subprocess.run(
            [sys.executable, "-m", "pipelines.run"], env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300
        )
    assert second.returncode == 2
    assert "уже идёт другой запуск конвейера" in second.stderr
    assert f"PID {os.getpid()}" in second.stderr
    assert not list((tmp_path / "dagster_home").glob("storage/*"))  # no run was started


def test_a_lock_left_by_a_dead_process_is_taken_over(tmp_path):
    path = tmp_path / "monitoring.duckdb.run-lock"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    path.write_text(json.dumps({"pid": int(dead.stdout), "started": "2026-03-01T06:00:00+03:00"}))
    with run_lock(path) as note:
        assert f"оставленная блокировка запуска PID {int(dead.stdout)}" in note
        assert json.loads(path.read_text())["pid"] == os.getpid()
    with run_lock(path) as note:  # released cleanly: nothing stale
        assert note is None


@pytest.fixture
def held_warehouse(tmp_path):
    """Another process (an analyst's notebook) holding the working database open read-only."""
    warehouse = tmp_path / "warehouse" / "monitoring.duckdb"
    warehouse.parent.mkdir(exist_ok=True)
    duckdb.connect(str(warehouse)).close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys; c = duckdb.connect(sys.argv[1], read_only=True); "
            "print('open', flush=True); sys.stdin.read()",
            str(warehouse),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "open"
    yield warehouse, holder.pid
    holder.stdin.close()
    holder.wait()


def test_a_held_working_database_fails_at_once_naming_the_holder(held_warehouse, tmp_path, monkeypatch):
    warehouse, pid = held_warehouse
    problem = warehouse_lock_problem(warehouse)
    assert f"PID {pid}" in problem and "Закройте это подключение" in problem
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    with pytest.raises(RunRefused, match=f"PID {pid}"):
        run_pipeline(SAMPLE_DIR, warehouse, publish_dir=tmp_path / "published")
    assert warehouse_lock_problem(tmp_path / "absent.duckdb") is None


def test_a_salt_set_after_the_first_load_is_refused(tmp_path, monkeypatch):
    monkeypatch.delenv(SALT_VARIABLE, raising=False)
    con = duckdb.connect(str(tmp_path / "monitoring.duckdb"))
    load_landing(SAMPLE_DIR, con, sources=["schools", "gia_results"])
    codes = con.execute("select participant_code from raw.gia_results order by all").fetchall()
    assert codes
    monkeypatch.setenv(SALT_VARIABLE, "a salt set later")
    with pytest.raises(SaltChanged, match=f"{SALT_VARIABLE} изменилась.*удалите рабочую базу"):
        load_source("gia_results", SAMPLE_DIR, con)
    assert con.execute("select participant_code from raw.gia_results order by all").fetchall() == codes
    stored = con.execute("select fingerprint from ops.participant_code_salt").fetchall()
    assert stored == [("none",)] and "a salt set later" not in repr(stored)
    monkeypatch.delenv(SALT_VARIABLE)  # the salt the codes were made with: loads again
    load_source("gia_results", SAMPLE_DIR, con)


def test_a_new_database_records_the_salt_and_keeps_using_it(tmp_path, monkeypatch):
    monkeypatch.setenv(SALT_VARIABLE, "first salt")
    con = duckdb.connect(str(tmp_path / "monitoring.duckdb"))
    load_landing(SAMPLE_DIR, con, sources=["schools", "gia_results"])
    fingerprint = con.execute("select fingerprint from ops.participant_code_salt").fetchone()[0]
    assert fingerprint not in ("none", "first salt") and len(fingerprint) == 16
    load_source("gia_results", SAMPLE_DIR, con)  # same salt: fine
    monkeypatch.setenv(SALT_VARIABLE, "second salt")
    with pytest.raises(SaltChanged, match="с другой солью"):
        load_source("gia_results", SAMPLE_DIR, con)
