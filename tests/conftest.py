"""Shared test setup: every test runs offline, with its own Dagster instance and warehouse."""

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SAMPLE_DIR = REPO_ROOT / "data" / "sample"
REAL_DIR = Path(os.environ.get("SHARED_REAL_DIR", REPO_ROOT.parent / "shared" / "real"))
# The key of participant codes for generated data and the bundled sample only (the Makefile's, not a secret):
# their РЦОИ lists carry dummy documents, and a list with documents is not read without a key.
SAMPLE_PARTICIPANT_KEY = "bundled-sample-only-not-a-secret"

# Modules whose tests build the sample with dbt, run the pipeline or a server, or generate a landing folder:
# marked slow, so `make test-fast` (`-m "not slow"`) leaves them out, as are single tests marked
# `@pytest.mark.slow` where they are. Every other test is marked fast.
SLOW_MODULES = {
    "tests/test_project.py",
    *(
        f"tests/automation/{name}.py"
        for name in (
            "test_alerts",
            "test_crash_recovery",
            "test_dbt_artifacts",
            "test_landing_sensor",
            "test_postgres_storage",
            "test_run_guard",
            "test_run_summary",
            "test_schedule",
            "test_up_to_date",
        )
    ),
    *(
        f"tests/dbt/{name}.py"
        for name in (
            "test_marts",
            "test_postgres_target",
            "test_real_dagestan_publication",
            "test_real_landing",
            "test_reports_landing",
        )
    ),
    "tests/ingest/test_assets.py",
    *(f"tests/publish/{name}.py" for name in ("test_blocking", "test_publication", "test_readers")),
    *(
        f"tests/quality/{name}.py"
        for name in ("test_checks", "test_objectivity", "test_personal_data", "test_suite_inputs")
    ),
    "tests/synth/test_synth.py",
}


def pytest_collection_modifyitems(items):
    for item in items:
        slow = item.get_closest_marker("slow") or item.nodeid.split("::")[0] in SLOW_MODULES
        item.add_marker(pytest.mark.slow if slow else pytest.mark.fast)


os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
# As the Makefile sets it: the warehouse resource requires it.
os.environ.setdefault("DUCKDB_MEMORY_LIMIT", "3GB")


@pytest.fixture
def pipeline_env(tmp_path, monkeypatch):
    """Points the pipeline's resources at a scratch warehouse, publication folder and Dagster home."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text((REPO_ROOT / "config" / "dagster.yaml").read_text())
    env = {
        "DAGSTER_HOME": str(home),
        "LANDING_DIR": str(SAMPLE_DIR),
        "WAREHOUSE_PATH": str(tmp_path / "warehouse" / "monitoring.duckdb"),
        "PUBLISH_DIR": str(tmp_path / "published"),
        "DAGSTER_UI_URL": "http://127.0.0.1:3000",
        "PARTICIPANT_CODE_SALT": os.environ.get("PARTICIPANT_CODE_SALT") or SAMPLE_PARTICIPANT_KEY,
    }
    (tmp_path / "warehouse").mkdir()
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


@pytest.fixture(scope="module")
def postgres_database():
    """A scratch database on the PostgreSQL server named by POSTGRES_*, dropped afterwards.

    Without a server the test is skipped, unless POSTGRES_REQUIRED=1 (CI), where it fails.
    `make test` starts a local server first (scripts/start_postgres.sh).
    """
    import uuid

    import psycopg2
    from psycopg2 import sql

    from pipelines.postgres_target import connection_parameters

    parameters = connection_parameters()
    try:
        admin = psycopg2.connect(**parameters, connect_timeout=3)
    except psycopg2.OperationalError as error:
        if os.environ.get("POSTGRES_REQUIRED") == "1":
            pytest.fail(f"PostgreSQL required but not reachable: {error}")
        pytest.skip(f"no PostgreSQL server (scripts/start_postgres.sh starts one): {error}".strip())
    admin.autocommit = True
    name = f"monitoring_test_{uuid.uuid4().hex[:8]}"
    with admin.cursor() as cursor:
        cursor.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    try:
        yield {**parameters, "dbname": name}
    finally:
        with admin.cursor() as cursor:
            cursor.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
        admin.close()
