"""The dbt resource skips what dagster-dbt would do before each build and this project does not need."""

import importlib.metadata
import subprocess

import dagster_dbt.core.resource
from dagster_dbt import DbtCliResource

from pipelines.defs.dbt.project import DBT_EXECUTABLE, ProjectDbtCli, dbt_project, project_dbt_cli


def test_the_dbt_version_is_the_installed_dbt_core_without_running_dbt(monkeypatch):
    def no_subprocess(*args, **kwargs):
        raise AssertionError(f"dbt was run: {args}")

    monkeypatch.setattr(dagster_dbt.core.resource, "check_output", no_subprocess)
    resource = ProjectDbtCli(project_dir=dbt_project, dbt_executable=str(DBT_EXECUTABLE))
    assert str(resource._cli_version) == importlib.metadata.version("dbt-core")
    assert resource._initialize_dbt_core_adapter(["build"]) is None


def test_dagster_dbt_still_has_the_members_the_resource_replaces():
    """After a dagster-dbt upgrade that renames them, the replacements would silently do nothing."""
    assert isinstance(DbtCliResource.__dict__.get("_cli_version"), type(ProjectDbtCli.__dict__["_cli_version"]))
    assert callable(DbtCliResource.__dict__.get("_initialize_dbt_core_adapter"))
    installed = subprocess.check_output([str(DBT_EXECUTABLE), "--version"], text=True)
    assert importlib.metadata.version("dbt-core") in installed


def test_dbt_writes_no_log_file_into_the_build_folder(tmp_path):
    """The build folder is removed when the build ends: a debug log written there would only cost time."""
    project_dbt_cli(dbt_project).cli(["parse", "--quiet"], target_path=tmp_path).wait()
    assert (tmp_path / "manifest.json").is_file()
    assert not (tmp_path / "dbt.log").exists()
