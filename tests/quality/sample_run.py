"""One monitoring run on a copy of the bundled sample, shared by the quality, publish and automation tests.

The run is the real one: raw tables through the ingestion code path, then ``monitoring_job`` in process
(reviews, Great Expectations checks, dbt build and tests, publication) with a project-local instance.
It takes about a minute, so it happens once per test session; tests that break things work on copies.

The landing copy carries a review file with two decisions on flags the sample is known to raise
(ground truth: a school that helps on hard tasks, a school that grades leniently at the cut scores).
"""

import contextlib
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pytest

from tests.conftest import REPO_ROOT, SAMPLE_DIR, SAMPLE_PARTICIPANT_KEY

REVIEWS_CSV = (
    "login;year;work_code;sign;decision;reviewer;decided_at;comment\n"
    "sch860023;2023;MA6;task_inversion;снято;Иванова И. И.;2024-11-12;работы перепроверены, результаты подтвердились\n"
    "sch860009;2022;MA5;heaping_at_cuts;подтверждено;Петров П. П.;12.11.2024 15:30;баллы завышены при проверке\n"
)
DAGSTER_UI_URL = "http://127.0.0.1:3000"
DISMISSED = ("sch860023", 2023, "MA6", "task_inversion")
CONFIRMED = ("sch860009", 2022, "MA5", "heaping_at_cuts")


@dataclass(frozen=True)
class SampleRun:
    root: Path
    landing: Path
    warehouse: Path
    publish_dir: Path
    dagster_home: Path
    success: bool

    @property
    def env(self) -> dict[str, str]:
        return environment(self.root, self.landing)

    def instance(self) -> dg.DagsterInstance:
        with patched_environ({"DAGSTER_HOME": str(self.dagster_home)}):
            return dg.DagsterInstance.get()

    def query(self, sql: str) -> pd.DataFrame:
        with duckdb.connect(str(self.warehouse), read_only=True) as con:
            return con.execute(sql).df()

    def planted(self) -> pd.DataFrame:
        return pd.read_csv(self.landing / "ground_truth" / "planted.csv")


def environment(root: Path, landing: Path) -> dict[str, str]:
    """What `make` exports, pointed at scratch folders; the venv's bin on PATH for the dbt executable."""
    return {
        "DAGSTER_HOME": str(root / "dagster_home"),
        "LANDING_DIR": str(landing),
        "WAREHOUSE_PATH": str(root / "warehouse" / "monitoring.duckdb"),
        "PUBLISH_DIR": str(root / "published"),
        "DUCKDB_MEMORY_LIMIT": os.environ["DUCKDB_MEMORY_LIMIT"],
        "DAGSTER_UI_URL": DAGSTER_UI_URL,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DO_NOT_TRACK": "1",
        "GX_ANALYTICS_ENABLED": "false",
        "PARTICIPANT_CODE_SALT": os.environ.get("PARTICIPANT_CODE_SALT") or SAMPLE_PARTICIPANT_KEY,
    }


@contextlib.contextmanager
def patched_environ(values: dict[str, str]):
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def prepare(root: Path) -> Path:
    """Scratch folders, a Dagster home with the project's instance settings, and the landing copy."""
    landing = root / "landing"
    shutil.copytree(SAMPLE_DIR, landing)
    (landing / "reviews").mkdir()
    (landing / "reviews" / "reviews.csv").write_text(REVIEWS_CSV, encoding="utf-8")
    (root / "warehouse").mkdir()
    (root / "dagster_home").mkdir()
    shutil.copy(REPO_ROOT / "config" / "dagster.yaml", root / "dagster_home" / "dagster.yaml")
    return landing


def run_monitoring_job(instance: dg.DagsterInstance) -> dg.ExecuteInProcessResult:
    from pipelines.definitions import defs

    return defs().resolve_job_def("monitoring_job").execute_in_process(instance=instance, raise_on_error=False)


_cache: dict[str, SampleRun] = {}


def sample_run(root: Path) -> SampleRun:
    """Builds the run once per process (the first caller's folder wins)."""
    if "run" not in _cache:
        from pipelines.ingest.load import load_landing

        landing = prepare(root)
        env = environment(root, landing)
        with patched_environ(env):
            with duckdb.connect(env["WAREHOUSE_PATH"]) as con:
                load_landing(landing, con)
            instance = dg.DagsterInstance.get()
            result = run_monitoring_job(instance)
        _cache["run"] = SampleRun(
            root,
            landing,
            Path(env["WAREHOUSE_PATH"]),
            Path(env["PUBLISH_DIR"]),
            Path(env["DAGSTER_HOME"]),
            result.success,
        )
    return _cache["run"]


def copy_run(run: SampleRun, root: Path) -> SampleRun:
    """A copy to break: warehouse, publication (symlinks kept) and instance, pointing at the same landing."""
    shutil.copytree(run.root / "warehouse", root / "warehouse")
    shutil.copytree(run.publish_dir, root / "published", symlinks=True)
    shutil.copytree(run.dagster_home, root / "dagster_home")
    return SampleRun(
        root,
        run.landing,
        root / "warehouse" / run.warehouse.name,
        root / "published",
        root / "dagster_home",
        run.success,
    )


@pytest.fixture(scope="session")
def sample(tmp_path_factory) -> SampleRun:
    """The shared monitoring run on the sample (import this fixture into a conftest to use it)."""
    return sample_run(tmp_path_factory.mktemp("sample_run"))
