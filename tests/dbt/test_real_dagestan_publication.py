"""The sample with FIOKO's real 2023–2025 Dagestan markers list added builds and publishes.

The real list repeats every 2024 row word for word. Ingestion warns (`repeated_row`) and keeps the rows as
they are; staging counts each once, so the blocking dbt uniqueness tests do not hold back the release.
"""

import shutil

import dagster as dg
import duckdb
import pandas as pd
import pytest

from tests.ingest.conftest import REAL_MARKERS, needs_real
from tests.quality.sample_run import environment, patched_environ, prepare, run_monitoring_job


@needs_real
@pytest.mark.skipif(not REAL_MARKERS.is_file(), reason=f"{REAL_MARKERS} is not here")
def test_the_sample_with_the_real_dagestan_list_builds_and_publishes(tmp_path):
    from pipelines.ingest.load import load_landing
    from tests.ingest.conftest import write_xlsx

    landing = prepare(tmp_path)
    shutil.copy(REAL_MARKERS, landing / "fioko" / "objectivity_markers_dagestan_2023_2025.xlsx")  # bytes unchanged
    listed = pd.read_excel(REAL_MARKERS, engine="calamine")
    schools = listed.drop_duplicates("Логин")
    write_xlsx(
        landing / "registry" / "dagestan.xlsx",
        "Реестр ОО",
        [
            ["Логин", "Полное наименование", "Муниципалитет"],
            *schools[["Логин", "ОО", "Муниципалитет"]].astype(str).values.tolist(),
        ],
    )
    env = environment(tmp_path, landing)
    with patched_environ(env):
        with duckdb.connect(env["WAREHOUSE_PATH"]) as con:
            reports = load_landing(landing, con)
        markers = reports["fioko_objectivity_markers"]
        assert "fioko/objectivity_markers_dagestan_2023_2025.xlsx" in markers.files_loaded, markers.issues[:3]
        assert any(issue.rule == "repeated_row" for issue in markers.issues)
        result = run_monitoring_job(dg.DagsterInstance.get())

    failed = [
        c.asset_check_key
        for c in result.get_asset_check_evaluations()
        if not c.passed and c.severity == dg.AssetCheckSeverity.ERROR
    ]
    assert result.success and not failed, failed
    assert (tmp_path / "published" / "current" / "monitoring.duckdb").is_file()
    with duckdb.connect(env["WAREHOUSE_PATH"], read_only=True) as con:
        raw, staged, repeated = con.execute("""
            select (select count(*) from raw.fioko_objectivity_markers where _source_file like '%dagestan%'),
                   (select count(*) from staging.stg_fioko_objectivity_markers where source_file like '%dagestan%'),
                   (select count(*) from staging.stg_fioko_objectivity_markers where copies > 1)""").fetchone()
    assert raw > staged and repeated > 0
