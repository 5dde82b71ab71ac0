"""The Dagster assets on a tiny landing folder: one materialisation per campaign, metadata and checks."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from pipelines.defs.ingest.assets import INGEST_ASSETS, QUARANTINE_CHECK
from pipelines.defs.ingest.partitions import register_campaigns
from pipelines.defs.metadata import NO_PREVIEW
from pipelines.defs.resources import Folder
from tests.ingest.conftest import JOURNAL, VPR_ROWS, with_cell


def materialize(landing, database, partition_key, row_level=False) -> dg.ExecuteInProcessResult:
    config = {"ops": {asset.op.name: {"config": {"row_level_quarantine": row_level}} for asset in INGEST_ASSETS}}
    instance = dg.DagsterInstance.ephemeral()
    register_campaigns(instance, [partition_key])
    return dg.materialize(
        INGEST_ASSETS,
        partition_key=partition_key,
        run_config=config,
        instance=instance,
        resources={"duckdb": DuckDBResource(database=str(database)), "landing": Folder(path=str(landing.root))},
    )


def metadata(result: dg.ExecuteInProcessResult) -> dict[str, dict]:
    return {
        event.asset_key.to_user_string(): {k: v.value for k, v in event.materialization.metadata.items()}
        for event in result.get_asset_materialization_events()
    }


def checks(result: dg.ExecuteInProcessResult) -> dict[str, dg.AssetCheckEvaluation]:
    return {e.asset_key.to_user_string(): e for e in result.get_asset_check_evaluations()}


def test_materialising_a_campaign_reports_rows_files_and_quarantine(landing, tmp_path):
    landing.vpr_form(year=2024, login="sch860002")
    landing.vpr_form(year=2024, login="sch860003", rows=[with_cell(VPR_ROWS[0], JOURNAL, 7), VPR_ROWS[1]])
    database = tmp_path / "warehouse.duckdb"

    result = materialize(landing, database, "2023-2024/H2")

    assert result.success
    meta = metadata(result)
    assert {key: m["dagster/row_count"] for key, m in meta.items()} == {
        "raw/schools": 3,
        "raw/login_aliases": 0,
        "raw/fioko_shnor": 1,
        "raw/fioko_objectivity_markers": 8,
        "raw/fioko_risk_profiles": 2,
        "raw/social_passport": 2,
        "raw/gia_school_codes": 0,
        "raw/vpr_results": 3,
        "raw/vpr_report_counts": 0,
        "raw/gia_results": 0,
    }
    vpr = meta["raw/vpr_results"]
    assert (vpr["files_found"], vpr["files_loaded"], vpr["files_quarantined"], vpr["files_skipped"]) == (2, 1, 1, 0)
    assert vpr["preview"] == NO_PREVIEW  # participant rows stay out of the UI, counts only
    assert [c.name for c in vpr["dagster/column_schema"].columns][:3] == ["year", "login", "work_code"]

    found = checks(result)
    assert {key for key, e in found.items() if not e.passed} == {"raw/vpr_results"}
    failed = found["raw/vpr_results"]
    assert failed.check_name == QUARANTINE_CHECK and failed.severity == dg.AssetCheckSeverity.WARN
    assert "vpr/2024/sch860003/Математика 5 класс.xlsx" in failed.metadata["quarantined_files"].value
    assert (
        "row 2, column «Отметка за предыдущий триместр/ четверть/полугодие»: value 7 is not a journal mark 2–5"
        in failed.metadata["issues"].value
    )

    result = materialize(landing, database, "2022-2023/H2", row_level=True)
    meta = metadata(result)
    assert meta["raw/vpr_results"]["dagster/row_count"] == 3 and meta["raw/gia_results"]["dagster/row_count"] == 4
    assert meta["raw/schools"]["files_skipped"] == 1 and meta["raw/schools"]["files_loaded"] == 0


def test_the_column_schema_comes_from_the_pandera_contract():
    [vpr] = [a for a in INGEST_ASSETS if a.key.path == ["raw", "vpr_results"]]
    schema = vpr.specs_by_key[vpr.key].metadata["dagster/column_schema"]
    mark = next(c for c in schema.columns if c.name == "mark")
    assert mark.type == "integer" and "a mark 2–5" in mark.constraints.other
    code = next(c for c in schema.columns if c.name == "participant_code")
    assert code.type == "varchar" and not code.constraints.nullable
    assert any("task maximum" in rule for rule in schema.constraints.other)
    assert [c.name for c in schema.columns][-5:] == [
        "_source_file",
        "_sheet",
        "_row_number",
        "_file_sha256",
        "_loaded_at",
    ]
