"""Reading in worker processes gives what reading in the run's process gives, file for file and in order."""

import pytest

from pipelines.ingest import load
from pipelines.ingest.listing import landing_files, matching
from tests.conftest import SAMPLE_DIR


def _comparable(result):
    file, sha, size, mtime, parsed = result
    return file, sha, size, mtime, (type(parsed).__name__, parsed.args) if isinstance(parsed, Exception) else parsed


@pytest.mark.skipif(load.os.cpu_count() < 2, reason="needs two cores for two worker processes")
def test_two_workers_read_the_same_as_one_process(monkeypatch, tmp_path):
    forms = matching(landing_files(SAMPLE_DIR), "vpr/**/*.xlsx")[:150]
    broken = tmp_path / "vpr" / "2023" / "broken.xlsx"
    broken.parent.mkdir(parents=True)
    broken.write_bytes(b"not a workbook")
    for form in forms:
        (tmp_path / form).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / form).write_bytes((SAMPLE_DIR / form).read_bytes())
    files = [*forms, "vpr/2023/broken.xlsx"]
    monkeypatch.setattr(load, "PARALLEL_FROM_FILES", 1)  # the sample is below the size that starts workers
    serial = load.read_files("vpr_results", tmp_path, files, workers=1)
    parallel = load.read_files("vpr_results", tmp_path, files, workers=2)
    assert [r[0] for r in parallel] == files
    assert [_comparable(r) for r in parallel] == [_comparable(r) for r in serial]
    assert isinstance(parallel[-1][4], load.ReadError) and len(forms) == 150
