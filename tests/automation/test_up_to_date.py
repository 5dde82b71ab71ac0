"""The "up to date" rule compares with what the current release was built from, not with past runs."""

import io
import re
import shutil
import subprocess
import sys

import duckdb
import xlsxwriter
from python_calamine import CalamineWorkbook

from pipelines.defs.publish.state import input_state
from pipelines.ingest.load import load_landing
from pipelines.run import UNCHANGED, is_up_to_date
from tests.conftest import REPO_ROOT
from tests.quality.sample_run import copy_run, environment

FORM = "vpr/2024/sch860001/Математика 5 класс.xlsx"
SCHOOL_WORK = "login = 'sch860001' and year = 2024 and work_label_ru = 'ВПР МА5'"


def without_one_pupil(form: bytes) -> bytes:
    """The protocol form with its first pupil who wrote the work left out."""
    rows = CalamineWorkbook.from_filelike(io.BytesIO(form)).get_sheet_by_name("Протокол").to_python()
    first = next(n for n, row in enumerate(rows[1:], start=1) if row[0] != "" and row[1] != "отсутствовал")
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = workbook.add_worksheet("Протокол")
    for r, row in enumerate(rows[:first] + rows[first + 1 :]):
        for c, value in enumerate(row):
            if value != "":
                sheet.write(r, c, value)
    workbook.close()
    return buffer.getvalue()


CAMPAIGN_OF_FORM = "2023-2024/H2"


def ingestion_stages(printed: str) -> dict[str, str]:
    """Ingestion stage (without its «n из m») → what `make run` printed of it."""
    lines = [line for line in printed.splitlines() if line.startswith(("1. ", "2. "))]
    return {re.sub(r" \(\d+ из \d+\), ВПР и ГИА", "", line.split(": ", 1)[0]): line.split(": ", 1)[1] for line in lines}


def make_run(env) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "pipelines.run"], env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=1200
    )
    assert done.returncode in (0, 3), done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


def published_participants(publish_dir) -> int:
    parquet = publish_dir / "current" / "parquet" / "school_work_indicators.parquet"
    return duckdb.execute(f"select participants from '{parquet}' where {SCHOOL_WORK}").fetchone()[0]


def test_change_revert_change_publishes_the_inputs_of_each_run(sample, tmp_path, monkeypatch):
    run = copy_run(sample, tmp_path)
    landing = tmp_path / "landing"
    shutil.copytree(sample.landing, landing)
    env = environment(tmp_path, landing)
    original = (landing / FORM).read_bytes()
    changed = without_one_pupil(original)  # one MA5 participant of sch860001 less
    before = published_participants(run.publish_dir)

    printed = make_run(env)
    assert "публикация: не нужны, выпуск " in printed  # the copy's release was built from these inputs
    assert set(ingestion_stages(printed).values()) == {UNCHANGED}  # and no ingestion run was started

    (landing / FORM).write_bytes(changed)
    printed = make_run(env)
    assert "публикация: выполняются (входные данные изменились" in printed
    assert published_participants(run.publish_dir) == before - 1
    stages = ingestion_stages(printed)
    assert stages.pop(f"2. кампания {CAMPAIGN_OF_FORM}").startswith("готово")  # only the changed form's campaign
    assert set(stages.values()) == {UNCHANGED}

    (landing / FORM).write_bytes(original)
    assert "публикация: выполняются (входные данные изменились" in make_run(env)
    assert published_participants(run.publish_dir) == before

    (landing / FORM).write_bytes(changed)  # the inputs of an earlier successful run: still rebuilt
    assert "публикация: выполняются (входные данные изменились" in make_run(env)
    assert published_participants(run.publish_dir) == before - 1

    # A new working database with the same files: re-ingested, the published release matches the inputs,
    # but the working database has no marts, so it is not up to date.
    run.warehouse.unlink()
    monkeypatch.setenv("PARTICIPANT_CODE_SALT", env["PARTICIPANT_CODE_SALT"])  # the lists carry documents
    with duckdb.connect(str(run.warehouse)) as con:
        load_landing(landing, con)
        state = input_state(con, landing)
    up_to_date, reason = is_up_to_date(run.warehouse, run.publish_dir, state)
    assert not up_to_date and "нет записи о публикации" in reason
