"""Shared test setup: every test runs offline, with its own Dagster instance and warehouse."""

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SAMPLE_DIR = REPO_ROOT / "data" / "sample"
REAL_DIR = REPO_ROOT.parent / "shared" / "real"

os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")


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
    }
    (tmp_path / "warehouse").mkdir()
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env
