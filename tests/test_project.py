"""Config checks: the code location loads and the dbt project parses."""

import subprocess

from tests.conftest import REPO_ROOT


def test_code_location_loads_every_domain():
    from pipelines.definitions import defs

    definitions = defs()
    groups = {spec.group_name for spec in definitions.resolve_all_asset_specs()}
    assert {"ingest", "staging", "marts"} <= groups
    assert definitions.resolve_job_def("monitoring_job") is not None


def test_dg_check_defs_passes():
    result = subprocess.run(
        [str(REPO_ROOT / ".venv" / "bin" / "dg"), "check", "defs"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_dbt_parse_succeeds():
    from dbt.cli.main import dbtRunner

    result = dbtRunner().invoke(
        [
            "parse",
            "--project-dir",
            str(REPO_ROOT / "dbt_project"),
            "--profiles-dir",
            str(REPO_ROOT / "dbt_project"),
            "--quiet",
        ]
    )
    assert result.success, result.exception
