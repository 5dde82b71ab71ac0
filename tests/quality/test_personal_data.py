"""No personal data of the РЦОИ lists anywhere a run writes: warehouse, Dagster storage, logs, publication.

The bundled sample's lists carry dummy names and documents. A whole run (`pipelines.run`, as `make run`)
on a copy of it, plus one list with a bad cell so that a quarantine message is written, is scanned for
every name and document of the lists, collected here straight from the CSV cells.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
import zipfile
from pathlib import Path

import duckdb
import pytest

from tests.conftest import SAMPLE_DIR

PERSONAL_HEADERS = {"Фамилия", "Имя", "Отчество", "Серия", "Номер", "Документ"}


def personal_values(landing: Path) -> tuple[set[str], set[str]]:
    """(names, documents) in the lists' personal columns; documents as «series number» and as one string."""
    names, documents = set(), set()
    for path in landing.glob("gia/**/*.csv"):
        rows = list(csv.reader(io.StringIO(path.read_bytes().decode("cp1251")), delimiter=";"))
        header = next((row for row in rows[:30] if "Код ОО" in row and "№" in row), None)
        if header is None:
            continue
        columns = {h: i for i, h in enumerate(header) if h in PERSONAL_HEADERS}
        for row in rows[rows.index(header) + 1 :]:
            if not row or not re.fullmatch(r"\d+", row[0] or ""):
                continue
            for h in ("Фамилия", "Имя", "Отчество"):
                if h in columns and row[columns[h]]:
                    names.add(row[columns[h]])
            if "Документ" in columns:
                document = row[columns["Документ"]]
            else:
                document = f"{row[columns['Серия']]} {row[columns['Номер']]}"
            documents |= {document, document.replace(" ", "")}
    return names, documents


def text_cells(database: Path) -> set[str]:
    """Every text cell of every table of a DuckDB file."""
    cells = set()
    with duckdb.connect(str(database), read_only=True) as con:
        columns = con.execute(
            "select table_schema, table_name, column_name from information_schema.columns where data_type = 'VARCHAR'"
        ).fetchall()
        for schema, table, column in columns:
            cells |= {
                v
                for (v,) in con.execute(
                    f'select distinct "{column}" from "{schema}"."{table}" where "{column}" is not null'
                ).fetchall()
            }
    return cells


def file_bytes(root: Path) -> list[tuple[Path, bytes]]:
    """Every file under root, xlsx unzipped; DuckDB files are queried instead (they compress strings)."""
    found = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        if path.suffix == ".duckdb" or path.suffix == ".wal":
            continue
        data = path.read_bytes()
        if path.suffix == ".xlsx":
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                data = b"".join(archive.read(name) for name in archive.namelist())
        found.append((path, data))
    return found


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """`pipelines.run` on a copy of the sample with one bad list; stdout and stderr captured as its log."""
    import os
    import subprocess
    import sys

    from tests.conftest import REPO_ROOT, SAMPLE_PARTICIPANT_KEY

    root = tmp_path_factory.mktemp("personal_data")
    landing = root / "landing"
    shutil.copytree(SAMPLE_DIR, landing)
    good = sorted(landing.glob("gia/2024/ege_01_*-*.csv"))[0]
    lines = good.read_bytes().decode("cp1251").split("\r\n")
    lines[2] = re.sub(r";;(\d+);$", ";;140;", lines[2])  # a test score above 100: the list is quarantined
    (landing / "gia" / "2024" / "ege_01_bad_copy.csv").write_bytes("\r\n".join(lines).encode("cp1251"))
    home = root / "dagster_home"
    home.mkdir()
    shutil.copy(REPO_ROOT / "config" / "dagster.yaml", home / "dagster.yaml")
    (root / "warehouse").mkdir()
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "LANDING_DIR": str(landing),
        "WAREHOUSE_PATH": str(root / "warehouse" / "monitoring.duckdb"),
        "PUBLISH_DIR": str(root / "published"),
        "PARTICIPANT_CODE_SALT": SAMPLE_PARTICIPANT_KEY,
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DO_NOT_TRACK": "1",
        "GX_ANALYTICS_ENABLED": "false",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    result = subprocess.run(
        [sys.executable, "-m", "pipelines.run"], cwd=REPO_ROOT, env=env, capture_output=True, timeout=900
    )
    (root / "run.log").write_bytes(result.stdout + result.stderr)
    return root, landing, result


def test_the_scan_finds_what_it_looks_for(run):
    root, landing, _ = run
    names, documents = personal_values(landing)
    assert len(names) >= 10 and len(documents) >= 1000  # the sample's lists do carry names and documents
    a_list = sorted(landing.glob("gia/2024/oge_*.csv"))[0].read_bytes()
    assert any(d.encode("cp1251") in a_list for d in documents if " " in d)
    assert any(n.encode("cp1251") in a_list for n in names)


def test_a_run_writes_no_name_and_no_document_anywhere(run):
    root, landing, result = run
    names, documents = personal_values(landing)
    assert (root / "published" / "current").exists(), result.stdout.decode()[-2000:]

    with duckdb.connect(str(root / "warehouse" / "monitoring.duckdb"), read_only=True) as con:
        [(rows,)] = con.execute("select count(*) from raw.gia_results where school_code is not null").fetchall()
        [(quarantined,)] = con.execute("select count(*) from ops.quarantine where file like '%bad_copy%'").fetchall()
    assert rows > 5000 and quarantined >= 1  # the lists were read, and the bad one left a message

    databases = [root / "warehouse" / "monitoring.duckdb", *(root / "published").rglob("*.duckdb")]
    for database in databases:
        cells = text_cells(database)
        leaked = {
            c
            for c in cells
            if c in names or c in documents or any(d in documents for d in re.findall(r"\d{4} ?\d{6}", c))
        }
        assert not leaked, f"{database}: {sorted(leaked)[:5]}"

    import pandas as pd

    for parquet in (root / "published").rglob("*.parquet"):
        frame = pd.read_parquet(parquet)
        cells = {v for c in frame.columns if frame[c].dtype == object for v in frame[c].dropna().astype(str)}
        assert not cells & (names | documents), parquet

    patronymics = {n for n in names if n.endswith(("вич", "вна"))}
    dbt_logs = Path(__file__).resolve().parents[2] / "dbt_project" / "logs"
    for folder in (root / "dagster_home", root / "published", root / "warehouse", dbt_logs):
        for path, data in file_bytes(folder):
            assert not [v for v in patronymics if v.encode("utf-8") in data or v.encode("cp1251") in data], path
            found = {m.decode() for m in re.findall(rb"\d{4} ?\d{6}", data)}
            assert not found & documents, (path, sorted(found & documents)[:3])
    log = (root / "run.log").read_bytes()
    assert not [v for v in patronymics if v.encode("utf-8") in log]
    assert not {m.decode() for m in re.findall(rb"\d{4} ?\d{6}", log)} & documents


def participant_codes(database: Path) -> set[str]:
    """Every pseudonymous participant code the run stored (ВПР, ГИА results and appeals)."""
    with duckdb.connect(str(database), read_only=True) as con:
        tables = [
            f"{schema}.{table}"
            for schema, table in con.execute(
                "select table_schema, table_name from information_schema.columns "
                "where column_name = 'participant_code' and table_schema = 'raw'"
            ).fetchall()
        ]
        return {
            code
            for table in tables
            for (code,) in con.execute(
                f"select distinct participant_code from {table} where participant_code is not null"
            ).fetchall()
        }


def test_no_participant_code_in_the_dagster_storage_or_the_run_output(run):
    """Previews, metadata, check results and logs of every run (ingestion, models, checks, publication)."""
    root, _, result = run
    codes = participant_codes(root / "warehouse" / "monitoring.duckdb")
    assert len(codes) > 1000  # ВПР and ГИА codes were stored
    stored = file_bytes(root / "dagster_home")
    assert any(path.suffix == ".db" for path, _ in stored)  # the event log is there to be scanned
    for path, data in [*stored, (root / "run.log", (root / "run.log").read_bytes())]:
        leaked = [code for code in codes if code.encode() in data]
        assert not leaked, (path, leaked[:3])


def test_participant_level_models_are_marked_in_dbt():
    """Every dbt model with a participant column is configured participant-level, so it is never previewed."""
    import json

    from pipelines.defs.dbt.assets import PARTICIPANT_LEVEL
    from pipelines.defs.dbt.project import dbt_project
    from pipelines.defs.metadata import PARTICIPANT_COLUMNS

    manifest = json.loads(dbt_project.manifest_path.read_text(encoding="utf-8"))
    with_codes = {
        f"{node['schema']}.{node['name']}"
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and set(node["columns"]) & PARTICIPANT_COLUMNS
    }
    assert {
        "staging.stg_vpr_results",
        "staging.stg_gia_results",
        "intermediate.int_assessment_results",
        "objectivity.obj_vpr_participants",
    } <= with_codes
    assert with_codes <= PARTICIPANT_LEVEL


def test_a_participant_relation_gets_counts_and_columns_not_rows():
    from pipelines.defs.metadata import NO_PREVIEW, table_metadata

    with duckdb.connect() as con:
        con.execute("create table pupils as select 'abcdef0123456789' as participant_code, 5 as mark")
        con.execute("create table schools as select 'sch1' as login, 3 as participants")
        hidden = table_metadata(con, "pupils")
        shown = table_metadata(con, "schools")
        marked = table_metadata(con, "schools", participant_level=True)
    assert hidden["preview"].value == NO_PREVIEW and "abcdef" not in str(hidden)
    assert [c.name for c in hidden["dagster/column_schema"].columns] == ["participant_code", "mark"]
    assert hidden["dagster/row_count"].value == 1
    assert "sch1" in shown["preview"].value
    assert marked["preview"].value == NO_PREVIEW


def test_failing_rows_of_a_check_leave_participant_columns_out():
    """A failed dbt check shows a bounded sample of its stored failures, never a participant code; on a
    participant-level model the columns of a pupil's result are left out too."""
    from pipelines.defs.metadata import FAILING_ROWS, failing_rows_metadata

    with duckdb.connect() as con:
        con.execute(
            "create table failures as select 'sch1' as login, 'abcdef0123456789' as participant_code, "
            "5 as mark, i as row_id from range(20) as t(i)"
        )
        aggregated = failing_rows_metadata(con, "failures")
        pupils = failing_rows_metadata(con, "failures", participant_level=True)
    sample = aggregated["failing rows (sample)"].value
    assert "abcdef" not in sample and "participant_code" not in sample
    assert "mark" in sample and sample.count("sch1") == FAILING_ROWS
    assert "mark" not in pupils["failing rows (sample)"].value and "sch1" in pupils["failing rows (sample)"].value


def test_the_failing_values_of_column_rules_on_a_participant_level_model_are_left_out():
    """A column_rules test keeps the failing value of whichever column broke a rule: on a participant-level
    model that may be a pupil's mark, so only the column, the rule and the count are shown."""
    from pipelines.defs.metadata import failing_rows_metadata

    with duckdb.connect() as con:
        con.execute(
            "create table failures as select 'mark' as column_name, 'accepted_values' as rule, "
            "'7 из 5' as failing_value, 3 as failing_rows"
        )
        aggregated = failing_rows_metadata(con, "failures")["failing rows (sample)"].value
        pupils = failing_rows_metadata(con, "failures", participant_level=True)["failing rows (sample)"].value
    assert "7 из 5" in aggregated
    assert "7 из 5" not in pupils and "failing_value" not in pupils and "accepted_values" in pupils
