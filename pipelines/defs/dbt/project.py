"""The dbt project as Dagster sees it; kept apart so the manifest can be prepared without loading assets.

The manifest is built by `make setup` (`dbt parse`) whenever a dbt file changes, for `make run`,
`make dev` and the tests alike, so the code location never parses dbt while it loads.
"""

import sys
from pathlib import Path

from dagster_dbt import DbtProject

DBT_PROJECT_DIR = Path(__file__).resolve().parents[3] / "dbt_project"
# One folder per running dbt build, removed when the build ends (see pipelines/defs/dbt/assets.py).
RUN_TARGETS = DBT_PROJECT_DIR / "target" / "runs"
# dbt is installed beside the interpreter running the pipeline, whether or not the venv is on PATH.
DBT_EXECUTABLE = Path(sys.executable).parent / "dbt"

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
