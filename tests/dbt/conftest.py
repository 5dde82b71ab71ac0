"""The shared monitoring run on the sample (built once per session, see tests/quality/sample_run.py)."""

from tests.quality.sample_run import sample  # noqa: F401  (a fixture)
