"""Write–audit–publish on the sample run: what analysts receive, and what they never receive."""

import hashlib
import json
import os
import stat

import duckdb
import openpyxl
import pandas as pd
import pytest

from pipelines.defs.publish.config import load_publication_config
from pipelines.defs.publish.readme import DATA_DOCS, README
from pipelines.defs.publish.release import CURRENT, MANIFEST, RELEASES
from tests.quality.sample_run import DISMISSED

CONFIG = load_publication_config()


@pytest.fixture(scope="module")
def current(sample):
    return sample.publish_dir / CURRENT


def test_current_is_a_relative_link_to_a_complete_release(current):
    assert current.is_symlink()
    target = os.readlink(current)
    assert target.startswith(f"{RELEASES}/") and not os.path.isabs(target)
    manifest = json.loads((current / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["release"] == os.path.basename(target)
    expected = {CONFIG.duckdb_file, CONFIG.excel_file} | {
        f"{CONFIG.parquet_folder}/{m.name}.parquet" for m in CONFIG.marts
    }
    expected.add(README)
    docs = {name for name in manifest["files"] if name.startswith(f"{DATA_DOCS}/")}
    assert f"{DATA_DOCS}/index.html" in docs
    assert set(manifest["files"]) == expected | docs
    for name, entry in manifest["files"].items():
        assert hashlib.sha256((current / name).read_bytes()).hexdigest() == entry["sha256"], name


def test_published_duckdb_is_read_only(current):
    path = current / CONFIG.duckdb_file
    assert stat.S_IMODE(path.stat().st_mode) == 0o444
    with duckdb.connect(str(path), read_only=True) as con:
        assert con.execute("select count(*) from release_info").fetchone()[0] == len(CONFIG.marts)
    if os.geteuid() != 0:  # root ignores file modes
        with pytest.raises(duckdb.Error):
            duckdb.connect(str(path))
    with duckdb.connect(str(path), read_only=True) as con, pytest.raises(duckdb.Error):
        con.execute("create table analyst_scratch as select 1")


def published_tables(current) -> dict[str, pd.DataFrame]:
    with duckdb.connect(str(current / CONFIG.duckdb_file), read_only=True) as con:
        names = [m.name for m in CONFIG.marts]
        return {name: con.execute(f"select * from {name}").df() for name in names}


def test_no_participant_level_data_is_published(sample, current):
    with duckdb.connect(str(current / CONFIG.duckdb_file), read_only=True) as con:
        columns = set(con.execute("select column_name from duckdb_columns()").df()["column_name"])
        tables = set(con.execute("select table_name from duckdb_tables()").df()["table_name"])
    assert not columns & {"participant_code", "task_scores", "journal_mark", "primary_score"}
    assert tables == {m.name for m in CONFIG.marts} | {"release_info", "column_headers"}
    participants = sample.query("select count(*) as n from raw.vpr_results")["n"].iloc[0]
    for name, frame in published_tables(current).items():
        assert len(frame) < participants, name
    for parquet in (current / CONFIG.parquet_folder).glob("*.parquet"):
        assert "participant_code" not in pd.read_parquet(parquet).columns


def test_small_cells_are_suppressed_with_a_flag(current):
    mart = next(m for m in CONFIG.marts if m.name == "school_work_indicators")
    frame = published_tables(current)[mart.name]
    small = frame["participants"] < mart.suppression.min_n
    assert small.any() and (~small).any()
    assert frame.loc[small, CONFIG.suppressed_flag_column].all()
    assert not frame.loc[~small, CONFIG.suppressed_flag_column].any()
    assert frame.loc[small, list(mart.suppression.columns)].isna().all().all()
    assert frame.loc[~small & (frame["assessment"] == "ВПР"), "pass_rate_pct"].notna().all()


def test_values_derived_from_a_suppressed_group_are_suppressed_too(current):
    """`is_low_result` of a group of one or two pupils would disclose that they got a «2»: it is published empty."""
    frame = published_tables(current)["school_work_indicators"]
    with duckdb.connect(str(current / CONFIG.duckdb_file), read_only=True) as con:
        in_duckdb = con.execute(
            "select count(*) from school_work_indicators where participants < 5 and is_low_result is not null"
        ).fetchone()[0]
    tiny = frame["participants"] <= 2
    assert tiny.any() and in_duckdb == 0
    assert frame.loc[frame["participants"] < 5, "is_low_result"].isna().all()
    assert frame.loc[frame["participants"] >= 5, "is_low_result"].notna().any()


def test_flagged_schools_are_published_with_their_status(current):
    flags = published_tables(current)["objectivity_flags"]
    assert {"на проверке", "снято", "подтверждено"} <= set(flags["status"])
    login, year, work_code, sign = DISMISSED
    dismissed = flags[
        (flags["login"] == login)
        & (flags["year"] == year)
        & (flags["work_code"] == work_code)
        & (flags["sign"] == sign)
    ]
    assert list(dismissed["status"]) == ["снято"]


def test_excel_workbook_has_russian_headers_and_formatting(current):
    workbook = openpyxl.load_workbook(current / CONFIG.excel_file, read_only=False)
    assert workbook.sheetnames == ["Сводка", "Содержание", *(m.sheet for m in CONFIG.marts)]
    for mart in CONFIG.marts:
        sheet = workbook[mart.sheet]
        headers = [cell.value for cell in sheet[1]]
        assert headers[: len(mart.columns)] == list(mart.columns.values())
        assert sheet.freeze_panes is not None and sheet.freeze_panes.startswith(("A2", "B2", "C2", "D2"))
        assert sheet.tables[mart.name].ref.startswith("A1:")
        assert sheet[1][0].font.bold
        assert sheet.column_dimensions["A"].width >= 8
