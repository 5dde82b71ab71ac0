"""The benchmark's report, from measured figures (the benchmark itself is run by `make bench`, not here)."""

import json

from pipelines.bench import Measured, published_workbooks, report


def test_the_report_shows_the_workbooks_time_from_the_release_manifest(tmp_path):
    release = tmp_path / "releases" / "r1"
    release.mkdir(parents=True)
    (tmp_path / "current").symlink_to(release)
    workbooks = {
        "main": "monitoring.xlsx",
        "territories": {"Южный": "excel/Южный.xlsx"},
        "cells": 18_250_000,
        "seconds": 95.4,
    }
    (release / "manifest.json").write_text(json.dumps({"workbooks": workbooks}), encoding="utf-8")
    result = {
        "scale": "federal",
        "full": Measured(370.0, 4000),
        "rerun": Measured(11.0, 300),
        "stages": {"publication": 110.0},
        "workbooks": published_workbooks(tmp_path),
        "references": {"duckdb": Measured(220.0, 4400), "pandas": Measured(128.0, 4400), "decode": Measured(2, 90)},
        "spreadsheets": 4,
    }
    lines = report(result).splitlines()
    assert "| – of the publication, Excel workbooks (18,250,000 cells, 2 files) | 95.4 | |" in lines
    assert lines.index("| stage: publication | 110.0 | |") < lines.index(
        "| – of the publication, Excel workbooks (18,250,000 cells, 2 files) | 95.4 | |"
    )


def region_result(full: float, ingestion: float, dbt: float, script: float, decode: float, files: int) -> dict:
    """Measured figures of a region benchmark; the re-run takes 4 % of the full run."""
    return {
        "scale": "region",
        "full": Measured(full, 1400),
        "rerun": Measured(full * 0.04, 300),
        "stages": {"ingestion": ingestion, "dbt": dbt},
        "workbooks": {"cells": 1, "territories": {}, "seconds": 1.0},
        "references": {"duckdb": Measured(script, 600), "pandas": Measured(5.0, 600), "decode": Measured(decode, 200)},
        "spreadsheets": files,
    }


def test_the_report_states_every_target_of_the_scale_and_whether_it_is_met():
    lines = report(region_result(100.0, 50.0, 40.0, script=30.0, decode=6.0, files=10_700)).splitlines()
    assert "| decoding the 10,700 spreadsheets alone (calamine, " in "\n".join(lines)
    assert "- floor of ingestion + dbt (decoding the spreadsheets + the DuckDB script): 36.0 s" in lines
    assert "- end_to_end_s: 100.00 (target ≤ 60) NOT met (floor 36.00)" in lines
    assert "- rerun_share: 0.04 (target ≤ 0.05) met" in lines
    assert "- pipeline_to_script: 3.00 (target ≤ 1.3) NOT met (floor 1.20)" in lines


def test_a_target_below_the_floor_is_reported_as_out_of_reach():
    lines = report(region_result(50.0, 12.0, 4.0, script=10.0, decode=4.0, files=100)).splitlines()
    assert "- end_to_end_s: 50.00 (target ≤ 60) met (floor 14.00)" in lines
    assert (
        "- pipeline_to_script: 1.60 (target ≤ 1.3) NOT met "
        "(floor 1.40: cannot be met here with these models and inputs)" in lines
    )
