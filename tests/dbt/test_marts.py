"""End-to-end checks of the dbt marts on freshly generated data.

A landing folder is generated with the synthetic generator (municipality scale, 2019–2022, fixed seed),
loaded into a scratch DuckDB with the ingestion's `load_landing`, and built with `dbt build` through
dbtRunner. The computed ШНОР list must equal the generator's ground truth exactly; ШНСУ flags are compared
with a tolerance (below); switching the rule set to leningrad_oblast must build and change the flags.

ШНСУ tolerance. The generator's ground truth marks the bottom 15 % of schools by a latent social context
that the social passport reflects only through binomial counts, while the rule's default cut is the
bottom 25 % of ИСБШ (seed 003). So the test checks that ИСБШ ranks schools like the latent context
(Spearman ≥ 0.85 per year), that at least 90 % of the expected ШНСУ school-years are flagged by the 25 %
cut, that at least 85 % of the flags fall on schools in the bottom 40 % of the latent context, and that
ranking by ИСБШ with the generator's own 15 % cut agrees with the expected flags on at least 90 % of
school-years.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from tests.conftest import REPO_ROOT, SAMPLE_PARTICIPANT_KEY

DBT_DIR = REPO_ROOT / "dbt_project"
YEARS = range(2019, 2023)
SEED = 7
# The objectivity models too: their unit tests need the relations they read to exist.
SELECTION = ["--select", "+path:models/marts", "+path:models/objectivity", "--indirect-selection", "cautious"]


def _invoke(args: list[str], tmp: Path):
    """dbt in this process on the project, with its artifacts and logs under ``tmp``."""
    from dbt.cli.main import dbtRunner

    return dbtRunner().invoke(
        [
            *args,
            "--project-dir",
            str(DBT_DIR),
            "--profiles-dir",
            str(DBT_DIR),
            "--target-path",
            str(tmp / "target"),
            "--log-path",
            str(tmp / "logs"),
            "--quiet",
        ]
    )


def _dbt(args: list[str], tmp: Path) -> None:
    result = _invoke(args, tmp)
    failures = [
        f"{r.node.unique_id}: {r.status} {r.message}"
        for r in getattr(result.result, "results", [])
        if str(r.status) in ("error", "fail", "runtime error")
    ]
    assert result.success, f"dbt {' '.join(args)} failed: {result.exception or failures}"


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    """Generated landing folder → raw tables → `dbt build` (FIOKO rule set); yields the paths and timings."""
    from pipelines.ingest.load import load_landing
    from pipelines.synth import generate

    tmp = tmp_path_factory.mktemp("marts")
    landing, database = tmp / "landing", tmp / "monitoring.duckdb"
    timings = {}
    started = time.perf_counter()
    generate("municipality", YEARS, SEED, landing)
    timings["generate"] = time.perf_counter() - started

    started = time.perf_counter()
    con = duckdb.connect(str(database))
    key = os.environ.get("PARTICIPANT_CODE_SALT")
    os.environ["PARTICIPANT_CODE_SALT"] = key or SAMPLE_PARTICIPANT_KEY  # the generated lists carry documents
    try:
        reports = load_landing(landing, con)
    finally:
        if key is None:
            os.environ.pop("PARTICIPANT_CODE_SALT")
    con.close()
    timings["load"] = time.perf_counter() - started
    assert not any(report.files_quarantined for report in reports.values())

    previous = os.environ.get("WAREHOUSE_PATH")
    os.environ["WAREHOUSE_PATH"] = str(database)
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    try:
        started = time.perf_counter()
        _dbt(["build", *SELECTION], tmp)
        timings["dbt_build"] = time.perf_counter() - started
        yield {"tmp": tmp, "landing": landing, "database": database, "timings": timings}
    finally:
        if previous is None:
            os.environ.pop("WAREHOUSE_PATH", None)
        else:
            os.environ["WAREHOUSE_PATH"] = previous


def _query(database: Path, sql: str) -> pd.DataFrame:
    # dbtRunner runs in this process and dbt-duckdb keeps its connection open: connect the same way.
    with duckdb.connect(str(database)) as con:
        return con.execute(sql).df()


def _truth(warehouse, name: str) -> pd.DataFrame:
    return pd.read_csv(warehouse["landing"] / "ground_truth" / name)


def test_computed_shnor_equals_ground_truth(warehouse):
    expected = _truth(warehouse, "shnor_expected.csv")
    computed = _query(
        warehouse["database"],
        """
        select login, year, shnor_criterion as criterion, shnor_level_computed as level, triggering_works as low_works
        from marts.mart_school_flags where is_shnor_computed
    """,
    )
    key = ["login", "year", "criterion"]
    assert (
        computed.sort_values(key)[key].to_records(index=False).tolist()
        == expected.sort_values(key)[key].to_records(index=False).tolist()
    )
    merged = expected.merge(computed, on=["login", "year"], suffixes=("_expected", "_computed"))
    assert (merged["low_works_expected"] == merged["low_works_computed"]).all()
    assert (merged["level_expected"] == merged["level_computed"]).all()


def test_computed_shnor_agrees_with_official_lists(warehouse):
    flags = _query(
        warehouse["database"],
        """
        select * from marts.mart_school_flags where fioko_list_published and has_results_prev_year
    """,
    )
    assert len(flags) > 0
    assert flags["status_agrees"].all()


def test_near_misses_and_boundary(warehouse):
    planted = _truth(warehouse, "planted.csv")
    flags = _query(
        warehouse["database"],
        "select login, year, is_shnor_computed, low_works_count_prev_year from marts.mart_school_flags",
    )
    near_misses = planted[planted["case"] == "shnor_near_miss"]
    assert len(near_misses) > 0
    for row in near_misses.itertuples():
        list_year = int(re.search(r"list (\d{4})", row.detail).group(1))
        flag = flags[(flags["login"] == row.login) & (flags["year"] == list_year)]
        assert len(flag) == 1 and not flag["is_shnor_computed"].iloc[0], f"near miss {row.login} {list_year} flagged"
        assert flag["low_works_count_prev_year"].iloc[0] == 0, "a work just under 30 % counted as low"
    boundary = planted[planted["detail"].fillna("").str.contains("exactly 30 %")]
    for row in boundary.itertuples():
        list_year = int(re.search(r"list (\d{4})", row.detail).group(1))
        flag = flags[(flags["login"] == row.login) & (flags["year"] == list_year)]
        assert flag["is_shnor_computed"].all(), f"exactly 30 % not counted as low for {row.login}"


def test_shnsu_matches_ground_truth_within_tolerance(warehouse):
    expected = _truth(warehouse, "shnsu_expected.csv")
    expected["is_shnsu"] = expected["is_shnsu"].astype(str).str.lower() == "true"
    context = _query(
        warehouse["database"],
        """
        select login, year, isbsh, is_shnsu, isbsh_rank_from_bottom, schools_ranked from marts.mart_school_context
    """,
    )
    merged = expected.merge(context, on=["login", "year"], suffixes=("_expected", "_computed"))
    assert len(merged) == len(expected)
    for _, year in merged.groupby("year"):
        assert year["isbsh"].corr(year["context_latent"], method="spearman") >= 0.85
    flagged_expected = merged[merged["is_shnsu_expected"]]
    assert flagged_expected["is_shnsu_computed"].mean() >= 0.90
    latent_rank = merged.groupby("year")["context_latent"].rank(pct=True)
    assert (latent_rank[merged["is_shnsu_computed"]] <= 0.40).mean() >= 0.85
    same_cut = 100 * merged["isbsh_rank_from_bottom"] <= 15 * merged["schools_ranked"]
    assert (same_cut == merged["is_shnsu_expected"]).mean() >= 0.90


def test_work_indicators_are_consistent(warehouse):
    works = _query(warehouse["database"], "select * from marts.mart_school_work_indicators")
    assert {"ВПР MA5", "ОГЭ RU", "ЕГЭ MA_PROF", "ЕГЭ MA_BASE"} <= set(works["work_label"])
    oge_2020 = works[(works["year"] == 2020) & (works["assessment"] == "ОГЭ")]
    assert len(oge_2020) > 0 and not oge_2020["is_independent"].any() and not oge_2020["is_low_result"].any()
    ege = works[works["work_label"] == "ЕГЭ MA_PROF"]
    assert ege["quality_pct"].isna().all() and ege["mean_test_score"].notna().all()


def test_unit_tests_of_the_rules_pass(warehouse):
    """Production runs leave the unit tests out (pipelines/defs/dbt/assets.py); here every one runs."""
    result = _invoke(["test", "--select", "test_type:unit"], warehouse["tmp"])
    statuses = [str(r.status) for r in result.result.results]
    assert result.success and len(statuses) >= 7 and set(statuses) == {"pass"}, statuses


def test_column_rules_fail_once_per_broken_cell_and_keep_its_column_rule_and_value(warehouse):
    """The model's column rules are one dbt test (tests/generic/column_rules.sql): it must still count every
    failing cell and say which column broke which rule."""
    database, tmp = warehouse["database"], warehouse["tmp"]
    mart = "marts.mart_school_work_indicators"
    key = "login = ? and year = ? and work_label = ?"
    with duckdb.connect(str(database)) as con:
        rows = con.execute(
            f"select login, year, work_label, pass_rate_pct, assessment from {mart} "
            "where pass_rate_pct is not null order by login, year, work_label limit 3"
        ).fetchall()
        first, second, third = (row[:3] for row in rows)
        con.execute(f"update {mart} set pass_rate_pct = 150 where {key}", first)
        con.execute(f"update {mart} set assessment = 'ВПР 2' where {key}", second)
        con.execute(f"update {mart} set pass_rate_pct = 101, assessment = 'ВПР 2' where {key}", third)
    try:
        result = _invoke(["test", "--select", "mart_school_work_indicators_value_rules"], tmp)
        [outcome] = result.result.results
        assert str(outcome.status) == "fail" and outcome.failures == 4
        failing = _query(
            database,
            "select column_name, rule, failing_value, failing_rows "
            "from dbt_test__audit.mart_school_work_indicators_value_rules order by column_name, failing_value",
        )
        assert failing.values.tolist() == [
            ["assessment", "accepted_values", "ВПР 2", 2],
            ["pass_rate_pct", "accepted_range", "101.0", 1],
            ["pass_rate_pct", "accepted_range", "150.0", 1],
        ]
    finally:
        with duckdb.connect(str(database)) as con:
            for *row_key, pass_rate, assessment in rows:
                con.execute(
                    f"update {mart} set pass_rate_pct = ?, assessment = ? where {key}",
                    [pass_rate, assessment, *row_key],
                )


def test_year_ranges_fail_for_a_range_ending_before_it_starts_and_for_two_that_overlap(warehouse):
    database, tmp = warehouse["database"], warehouse["tmp"]
    seed = "rules.objectivity_pooling"  # one row, 2019 on: a row from 2020 overlaps it, one of 2040–2035 is invalid
    with duckdb.connect(str(database)) as con:
        [(first,)] = con.execute(f"select year_from from {seed}").fetchall()
        for year_from, year_to in ((first + 1, first + 2), (2040, 2035)):
            con.execute(
                f"insert into {seed} select * replace (? as year_from, ? as year_to) from {seed} where year_from = ?",
                [year_from, year_to, first],
            )
    try:
        result = _invoke(["test", "--select", "valid_year_ranges_objectivity_pooling_"], tmp)
        [outcome] = result.result.results
        assert str(outcome.status) == "fail" and outcome.failures == 2
        failing = _query(
            database, "select first_from, second_from from dbt_test__audit.valid_year_ranges_objectivity_pooling_"
        )
        assert sorted(map(tuple, failing.astype(object).where(failing.notna(), None).values.tolist())) == sorted(
            [(first, first + 1), (2040, None)]
        )
    finally:
        with duckdb.connect(str(database)) as con:
            con.execute(f"delete from {seed} where year_from <> ?", [first])


def test_leningrad_oblast_rule_set_builds_and_changes_flags(warehouse):
    database, tmp = warehouse["database"], warehouse["tmp"]
    fioko = _query(database, "select login, year from marts.mart_school_flags where is_shnor_computed")
    started = time.perf_counter()
    _dbt(["build", *SELECTION, "--vars", "{rule_set: leningrad_oblast}"], tmp)
    warehouse["timings"]["dbt_build_leningrad_oblast"] = time.perf_counter() - started
    lo = _query(database, "select * from marts.mart_school_flags where is_shnor_computed")
    assert (lo["rule_set"] == "leningrad_oblast").all()
    assert len(lo) > 0
    assert set(map(tuple, lo[["login", "year"]].values)) != set(map(tuple, fioko.values))
    lo_codes = {"bottom_results", "low_knowledge_quality", "below_region_average"}
    assert all(set(criteria.split("+")) <= lo_codes for criteria in lo["criteria_met"])
    print("timings, s:", {k: round(v, 1) for k, v in warehouse["timings"].items()})
