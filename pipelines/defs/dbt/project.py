"""The dbt project as Dagster sees it; kept apart so the manifest can be prepared without loading assets.

The manifest is built by `make setup` (`dbt deps`, `dbt parse`) whenever a dbt file changes, for `make run`
and the tests, so the code location never parses dbt while it loads in a deployment. Under `dg dev`,
`dagster dev` and other `dg` commands, ``prepare_if_dev()`` runs them again when the code location loads, so
an edited model shows on reload without `make`.
"""

import fcntl
import functools
import importlib.metadata
import sys
from pathlib import Path

from dagster_dbt import DagsterDbtProjectPreparer, DbtCliResource, DbtProject
from packaging import version

from pipelines.common import DBT_PROJECT_DIR

# One folder per running dbt build, removed when the build ends (see pipelines/defs/dbt/assets.py).
RUN_TARGETS = DBT_PROJECT_DIR / "target" / "runs"
# dbt is installed beside the interpreter running the pipeline, whether or not the venv is on PATH.
DBT_EXECUTABLE = Path(sys.executable).parent / "dbt"


class ProjectDbtCli(DbtCliResource):
    """dagster-dbt's dbt resource without three costs it pays on every build (measured alone: 1.7 s, 1.4 s and
    about 1 s of the region benchmark). It runs `dbt --version` to learn the executable's version: here the
    executable is the dbt-core installed beside this interpreter, whose version the package metadata gives. It
    opens a dbt adapter in this process for row counts and column metadata: this project reads those from
    DuckDB once dbt has exited (assets.py), as DuckDB admits no second connection while dbt writes. dbt writes
    a debug log of every statement to the build's folder, which is removed when the build ends: dbt's events
    reach the Dagster log through its standard output (errors included), so the file is not written
    (``project_dbt_cli``)."""

    @functools.cached_property
    def _cli_version(self) -> version.Version:
        return version.parse(importlib.metadata.version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args) -> None:
        return None


def project_dbt_cli(project: DbtProject) -> ProjectDbtCli:
    """The resource for the project's dbt, with no debug log file."""
    return ProjectDbtCli(
        project_dir=project, dbt_executable=str(DBT_EXECUTABLE), global_config_flags=["--log-level-file", "none"]
    )


class ProjectDbtPreparer(DagsterDbtProjectPreparer):
    """dagster-dbt's preparation (`dbt deps`, then `dbt parse`) with this interpreter's dbt, not the one on PATH,
    and one process at a time: the webserver, the daemon and the code server load the location together."""

    def prepare(self, project: DbtProject) -> None:
        dbt = project_dbt_cli(project)
        target = project.manifest_path.parent
        target.mkdir(parents=True, exist_ok=True)
        with open(target / ".prepare.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            dbt.cli(["deps", "--quiet"], target_path=project.target_path).wait()
            dbt.cli(["parse", "--quiet"], target_path=project.target_path).wait()


dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
# What ``dbt_project.prepare_if_dev()`` does, with the preparer above (DbtProject takes no preparer argument).
ProjectDbtPreparer().prepare_if_dev(dbt_project)
