"""Reading and checking in worker processes gives what one process gives: the same rows, issues and verdicts."""

import shutil

import duckdb
import pytest

from pipelines.ingest import load
from pipelines.ingest.listing import landing_files, matching
from tests.conftest import SAMPLE_DIR
from tests.ingest.conftest import FIRST_TASK, REAL_DIR, VPR_ROWS, Landing, needs_real, pupil, with_cell

pytestmark = pytest.mark.skipif(load.os.cpu_count() < 2, reason="needs two cores for two worker processes")


@pytest.fixture
def landing(tmp_path) -> Landing:
    """The sample's registry and forms of 2024; for 2023 one form copied under a second name (its pupils
    twice), one with a task score above its maximum, and a file that is no workbook."""
    landing = Landing(tmp_path / "landing")
    for form in ["registry/schools.xlsx", *matching(landing_files(SAMPLE_DIR), "vpr/2024/**/*.xlsx")[:40]]:
        (landing.root / form).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(SAMPLE_DIR / form, landing.root / form)
    landing.vpr_form()
    landing.vpr_form(name="Математика 5 класс (копия).xlsx")
    landing.vpr_form(login="sch860002", rows=[with_cell(VPR_ROWS[0], FIRST_TASK, 9), pupil(50010, 1, [1])])
    (landing.root / "vpr" / "2023" / "broken.xlsx").write_bytes(b"not a workbook")
    return landing


@pytest.fixture
def in_workers(monkeypatch):
    """Workers for a few small files, and every file its own chunk, so that a repeated key spans chunks."""
    monkeypatch.setattr(load, "PARALLEL_FROM_BYTES", 1)
    monkeypatch.setattr(load, "CHUNKS_PER_WORKER", 1000)


def _stored(con):
    rows = con.execute(
        "select * exclude (_loaded_at) from raw.vpr_results order by _source_file, _row_number"
    ).fetchall()
    quarantine = con.execute("select * exclude (detected_at) from ops.quarantine order by all").fetchall()
    verdicts = con.execute("select file, status, rows from ops.loaded_files order by all").fetchall()
    return rows, quarantine, verdicts


def _load(landing, path, workers: int):
    with duckdb.connect(str(path)) as con:
        reports = load.load_landing(landing, con, sources=["schools", "vpr_results"], workers=workers)
        return reports["vpr_results"], _stored(con)


def test_a_load_in_workers_stores_what_a_load_in_one_process_stores(landing, in_workers, tmp_path):
    serial_report, serial = _load(landing.root, tmp_path / "one_process.duckdb", workers=1)
    parallel_report, parallel = _load(landing.root, tmp_path / "workers.duckdb", workers=2)

    assert parallel == serial
    assert sorted(map(repr, parallel_report.issues)) == sorted(map(repr, serial_report.issues))
    rows, quarantine, verdicts = parallel
    rules = {(issue.file, issue.rule) for issue in parallel_report.issues}
    # the copy sorts first: the pupils of the original are the repeats, found in another chunk
    assert ("vpr/2023/sch860001/Математика 5 класс.xlsx", "one_row_per_key") in rules
    assert ("vpr/2023/sch860002/Математика 5 класс.xlsx", "task_score") in rules
    assert ("vpr/2023/broken.xlsx", "unreadable") in rules
    assert ("vpr/2023/sch860001/Математика 5 класс.xlsx", "quarantined", 0) in verdicts
    assert sum(status == "loaded" for _, status, _ in verdicts) == 42 and len(rows) > 500 and quarantine


def test_a_load_in_chunks_in_one_process_stores_what_one_chunk_stores(landing, monkeypatch, tmp_path):
    """Files of more than CHUNK_BYTES are checked chunk by chunk also in one process: the same outcome."""
    _, whole = _load(landing.root, tmp_path / "one_chunk.duckdb", workers=1)
    monkeypatch.setattr(load, "CHUNK_BYTES", 1)  # every file its own chunk
    chunked_report, chunked = _load(landing.root, tmp_path / "chunks.duckdb", workers=1)

    assert chunked == whole
    assert any(issue.rule == "one_row_per_key" for issue in chunked_report.issues)


@needs_real
@pytest.mark.slow  # loads a whole real region export twice
def test_real_files_load_in_workers_as_in_one_process(in_workers, tmp_path):
    """The real ВПР files under the names they arrive with, beside the thin registry: the region export's
    impossible cells leave out their rows (row level) the same way in workers as in one process."""
    from tests.ingest.test_real_files import REAL_VPR

    landing = tmp_path / "landing"
    for source, place in [
        (REAL_DIR / "registry" / "logins_minimal.xlsx", "registry/logins_minimal.xlsx"),
        *((REAL_DIR / "vpr" / real.name, real.place) for real in REAL_VPR),
    ]:
        (landing / place).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, landing / place)
    _, serial = _load(landing, tmp_path / "one_process.duckdb", workers=1)
    _, parallel = _load(landing, tmp_path / "workers.duckdb", workers=2)
    assert parallel == serial
    rows, quarantine, verdicts = parallel
    assert len(rows) > 26_000 and any(issue[6] == "task_score" for issue in quarantine)  # column `rule`
