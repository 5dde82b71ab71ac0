"""The shared monitoring run on the sample (built once per session, see tests/quality/sample_run.py), and one
`python -m pipelines.run` on a copy of the sample, as `make run` makes it."""

import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT
from tests.quality.sample_run import environment, prepare, sample  # noqa: F401  (a fixture)


@pytest.fixture(scope="session")
def made_run(tmp_path_factory):
    """(root, landing, environment, the finished process) of one `python -m pipelines.run`."""
    root = tmp_path_factory.mktemp("summary")
    landing = prepare(root)
    env = environment(root, landing)
    done = subprocess.run(
        [sys.executable, "-m", "pipelines.run", "--log", str(root / "run.log")],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    return root, landing, env, done
