"""A landing folder with only ФИС ОКО aggregated reports (and a registry) publishes indicators, ШНОР flags
and the objectivity signs the reports allow; a school with participant rows too is counted from them and
every disagreement with its report is listed.
"""

import os
import shutil

import dagster as dg
import duckdb
import pandas as pd
import pytest

from pipelines.ingest.load import load_landing
from pipelines.published import open_current
from tests.conftest import REPO_ROOT, SAMPLE_PARTICIPANT_KEY
from tests.dbt.test_marts import _dbt
from tests.ingest.conftest import JOURNAL_COMPARISON, VPR_ROWS, Landing
from tests.quality.sample_run import environment, patched_environ, run_monitoring_job

STATISTICS_HEADER = ["Группы участников", "Кол-во ОО", "Кол-во участников", 2, 3, 4, 5]
# (login, participants, % of 2, 3, 4, 5) per year and work. sch860002 has ≥ 30 % «2» in both grade-5 works
# of 2023: ШНОР in 2024 (two low works in the year before). sch860001 is low in MA5 2023 only.
SCHOOLS = {
    (2023, "MA5"): [
        ("sch860001", 20, 30.0, 40.0, 20.0, 10.0),
        ("sch860002", 8, 37.5, 50.0, 12.5, 0),
        ("sch860003", 12, 0, 25.0, 41.67, 33.33),
    ],
    (2023, "RU5"): [
        ("sch860001", 20, 10.0, 40.0, 35.0, 15.0),
        ("sch860002", 10, 30.0, 40.0, 30.0, 0),
        ("sch860003", 12, 0, 25.0, 50.0, 25.0),
    ],
    (2022, "MA5"): [("sch860001", 18, 5.56, 50.0, 27.78, 16.67), ("sch860002", 9, 11.11, 55.56, 33.33, 0)],
}
SELECTION = ["--select", "+path:models/marts", "+path:models/objectivity", "--indirect-selection", "cautious"]
SUBJECTS = {"MA": ("Математика", "МА"), "RU": ("Русский язык", "РУ")}


def statistics(landing: Landing, year: int, work: str) -> None:
    subject, abbreviation = SUBJECTS[work[:2]]
    rows = [STATISTICS_HEADER, ["Приморский край", 3, 500, 10.0, 40.0, 35.0, 15.0]]
    rows += [[f"Школа ({login})", None, n, *shares] for login, n, *shares in SCHOOLS[year, work]]
    from pipelines.ingest.works import work_spec
    from tests.ingest.conftest import report_title_block, write_xlsx

    title = report_title_block("Статистика по отметкам", year, subject, 5, work_spec(work, year).max_primary_score)
    write_xlsx(
        landing.root / "vpr_reports" / str(year) / f"{work} Статистика по отметкам.xlsx",
        f"{abbreviation} 5 Статистика по отметкам",
        [*title, *rows],
    )


@pytest.fixture(scope="module")
def reports_only(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("reports_only")
    landing, database = Landing(tmp / "landing"), tmp / "monitoring.duckdb"
    landing.registry()
    for year, work in SCHOOLS:
        statistics(landing, year, work)
    landing.vpr_report(
        rows=JOURNAL_COMPARISON,
        report="Сравнение отметок с отметками по журналу",
        sheet="МА 5 Сравнение отметок с отметк",
        name="Сравнение.xlsx",
    )
    with duckdb.connect(str(database)) as con:
        reports = load_landing(landing.root, con)
        assert reports["vpr_report_counts"].rows_rejected == 0 and not reports["vpr_report_counts"].files_quarantined
        assert reports["vpr_results"].files_found == []
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WAREHOUSE_PATH", str(database))
        _dbt(["build", *SELECTION], tmp)
    return database


def test_indicators_are_published_from_mark_statistics_alone(reports_only):
    with duckdb.connect(str(reports_only)) as con:  # as dbt's in-process connection is configured
        rows = con.execute("""
            select year, work_code, login, participants, fail_count, round(fail_share_pct, 2), round(quality_pct, 2),
                   is_low_result, level_of_detail
            from marts.mart_school_work_indicators order by year, work_code, login""").fetchall()
    assert rows == [
        (2022, "MA5", "sch860001", 18, 1, 5.56, 44.44, False, "reports"),
        (2022, "MA5", "sch860002", 9, 1, 11.11, 33.33, False, "reports"),
        (2023, "MA5", "sch860001", 20, 6, 30.0, 30.0, True, "reports"),
        (2023, "MA5", "sch860002", 8, 3, 37.5, 12.5, True, "reports"),
        (2023, "MA5", "sch860003", 12, 0, 0.0, 75.0, False, "reports"),
        (2023, "RU5", "sch860001", 20, 2, 10.0, 50.0, False, "reports"),
        (2023, "RU5", "sch860002", 10, 3, 30.0, 30.0, True, "reports"),
        (2023, "RU5", "sch860003", 12, 0, 0.0, 75.0, False, "reports"),
    ]


def test_shnor_flags_are_published_from_mark_statistics_alone(reports_only):
    with duckdb.connect(str(reports_only)) as con:  # as dbt's in-process connection is configured
        shnor = con.execute("select login, year from marts.mart_school_flags where is_shnor_computed").fetchall()
        official = con.execute("""select count(*) from marts.mart_vpr_official_area_results
                                  where area_level = 'region' and participants = 500""").fetchall()
    assert shnor == [("sch860002", 2024)]
    assert official == [(3 * 4,)]  # each B1 file's region row, 4 marks, as reported


def test_objectivity_signs_record_their_level_and_say_what_cannot_be_computed(reports_only):
    with duckdb.connect(str(reports_only)) as con:  # as dbt's in-process connection is configured
        signs = {
            (login, sign): (computable, source, reason)
            for login, sign, computable, source, reason in con.execute("""
            select login, sign, is_computable, computed_from, reason from objectivity.mart_objectivity_flags
            where year = 2023 and work_code = 'MA5'""").fetchall()
        }
    assert signs["sch860001", "level_above_region"][:2] == (True, "mark_statistics")
    assert signs["sch860001", "vpr_above_journal"][:2] == (True, "journal_comparison")
    assert signs["sch860003", "vpr_above_journal"] == (
        False,
        None,
        "Не вычисляется: нет сравнения с отметками по журналу (нет ни строк участников, ни отчёта "
        "«Сравнение отметок с отметками по журналу»).",
    )
    assert signs["sch860001", "heaping_at_cuts"][:2] == (False, None)
    assert "«Распределение первичных баллов»" in signs["sch860001", "heaping_at_cuts"][2]
    for sign in PARTICIPANT_ROW_SIGNS:
        assert signs["sch860001", sign][:2] == (False, None)
        assert "только по строкам участников" in signs["sch860001", sign][2]


@pytest.fixture(scope="module")
def both_levels(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("both_levels")
    landing, database = Landing(tmp / "landing"), tmp / "monitoring.duckdb"
    landing.registry()
    statistics(landing, 2023, "MA5")
    landing.vpr_form(rows=VPR_ROWS)  # sch860001, MA5 2023: three pupils
    with duckdb.connect(str(database)) as con:
        load_landing(landing.root, con)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WAREHOUSE_PATH", str(database))
        _dbt(["build", *SELECTION], tmp)
    return database


def test_participant_rows_win_and_every_disagreement_is_listed(both_levels):
    with duckdb.connect(str(both_levels)) as con:  # as dbt's in-process connection is configured
        levels = dict(
            con.execute("""select login, level_of_detail from marts.mart_school_work_indicators
                                     where year = 2023 and work_code = 'MA5'""").fetchall()
        )
        [(participants,)] = con.execute("""select participants from marts.mart_school_work_indicators
                where login = 'sch860001' and year = 2023 and work_code = 'MA5'""").fetchall()
        listed = con.execute("""select measure, participant_pupils, report_pupils, source_row_number
                                from marts.mart_vpr_report_reconciliation where login = 'sch860001'
                                order by measure""").fetchall()
        [(marks,)] = con.execute("select count(*) from raw.vpr_results where not is_absent").fetchall()
    assert levels == {"sch860001": "participant_rows", "sch860002": "reports", "sch860003": "reports"}
    assert participants == marks == 3
    assert ("participants", 3, 20, 10) in listed
    assert {m for m, *_ in listed} >= {"participants", "mark_2", "mark_3", "mark_4", "mark_5"} - {
        m for m, p, r, _ in listed if p == r
    }


# One region generated twice from the same simulated participants (municipality scale, two years: the ШНОР
# lists of both years need the year before): once as participant rows, once as ФИС ОКО reports only.
GENERATED_YEARS, GENERATED_SEED = range(2022, 2024), 3
COUNTS = [
    "participants",
    "mark_2",
    "mark_3",
    "mark_4",
    "mark_5",
    "with_journal",
    "lowered",
    "confirmed",
    "raised",
    "with_score",
]
REPORT_LEVELS = {
    "level_above_region": "mark_statistics",
    "vpr_above_journal": "journal_comparison",
    "journal_above_vpr": "journal_comparison",
    "heaping_at_cuts": "score_distribution",
}
# The signs that need participant rows: task scores, standardised scores, each pupil's journal mark.
PARTICIPANT_ROW_SIGNS = ("task_inversion", "not_confirmed_by_gia", "above_own_works", "weak_above_journal")
# What only participant rows carry: absent pupils, and the standardised scores behind the z-based columns.
PARTICIPANT_ONLY = {"absent", "level_of_detail"}


def _generated_warehouse(tmp, level: str):
    from pipelines.synth import generate

    landing, database = (
        generate("municipality", GENERATED_YEARS, GENERATED_SEED, tmp / level, vpr_level=level),
        tmp / f"{level}.duckdb",
    )
    with duckdb.connect(str(database)) as con:
        reports = load_landing(landing, con)
    assert not any(report.files_quarantined for report in reports.values())
    assert reports["vpr_report_counts"].rows_rejected == 0, reports["vpr_report_counts"].issues
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WAREHOUSE_PATH", str(database))
        _dbt(["build", *SELECTION], tmp / f"{level}_dbt")
    return database


@pytest.fixture(scope="module")
def two_levels(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("two_levels")
    with pytest.MonkeyPatch.context() as patch:  # the generated РЦОИ lists carry (dummy) documents
        patch.setenv("PARTICIPANT_CODE_SALT", os.environ.get("PARTICIPANT_CODE_SALT") or SAMPLE_PARTICIPANT_KEY)
        warehouses = {level: _generated_warehouse(tmp, level) for level in ("participants", "reports")}
    return {**warehouses, "truth": tmp / "participants" / "ground_truth", "reports_landing": tmp / "reports"}


def _frame(database, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(database)) as con:  # as dbt's in-process connection is configured
        return con.execute(sql).df()


def _both(two_levels, sql: str, key: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    participants, reports = (
        _frame(two_levels[level], sql).sort_values(key).reset_index(drop=True) for level in ("participants", "reports")
    )
    return participants, reports


def test_generated_reports_carry_no_participant_rows(two_levels):
    [(rows, reports)] = _frame(
        two_levels["reports"],
        """
        select (select count(*) from raw.vpr_results), (select count(distinct _source_file) from raw.vpr_report_counts)
    """,
    ).itertuples(index=False)
    levels = _frame(
        two_levels["reports"], "select distinct level_of_detail from intermediate.int_vpr_school_work_counts"
    )
    assert rows == 0 and reports == 2 * 6 * 3 + 2  # per year: 6 works × (B1, B2, scores) and the flat marks
    assert levels["level_of_detail"].tolist() == ["reports"]


def test_both_levels_count_the_same_pupils(two_levels):
    key = ["year", "login", "work_code"]
    participants, reports = _both(
        two_levels, f"select {', '.join(key + COUNTS)} from intermediate.int_vpr_school_work_counts", key
    )
    assert len(participants) > 100
    pd.testing.assert_frame_equal(participants, reports, check_dtype=False)
    score_key = [*key, "score"]
    participants, reports = _both(
        two_levels,
        f"select {', '.join(score_key)}, pupils from intermediate.int_vpr_school_work_score_counts where pupils > 0",
        score_key,
    )
    pd.testing.assert_frame_equal(participants, reports, check_dtype=False)


def test_both_levels_give_the_same_indicators(two_levels):
    key = ["year", "login", "work_label"]
    participants, reports = _both(two_levels, "select * from marts.mart_school_work_indicators", key)
    assert set(participants["assessment"]) == {"ВПР", "ОГЭ", "ЕГЭ"}
    assert set(reports.loc[reports["assessment"] == "ВПР", "level_of_detail"]) == {"reports"}
    compared = [c for c in participants.columns if c not in PARTICIPANT_ONLY]
    pd.testing.assert_frame_equal(participants[compared], reports[compared], check_dtype=False, atol=1e-9)


def test_both_levels_give_the_same_shnor_status(two_levels):
    key = ["login", "year"]
    columns = "login, year, is_shnor_computed, shnor_criterion, shnor_level_computed, triggering_works, status_agrees"
    participants, reports = _both(two_levels, f"select {columns} from marts.mart_school_flags", key)
    pd.testing.assert_frame_equal(participants, reports)
    expected = pd.read_csv(two_levels["truth"] / "shnor_expected.csv")
    flagged = reports[reports["is_shnor_computed"]]
    assert len(expected) > 5
    assert sorted(zip(flagged["login"], flagged["year"], flagged["shnor_criterion"])) == sorted(
        zip(expected["login"], expected["year"], expected["criterion"])
    )


def test_report_level_signs_agree_with_participant_level_within_tolerance(two_levels):
    """docs/levels_of_detail.md: on school rows the tolerance is nil (counts from two-decimal percentages are
    exact below 10 000 pupils) for the signs computed the same way from reports; the journal sign is the
    share of «повысили» from the report and the mean mark difference from participant rows."""
    key = ["year", "login", "work_code", "sign"]
    participants, reports = _both(
        two_levels,
        """
        select year, login, work_code, sign, role, n, estimate, ci_low, ci_high, reference, threshold, z_score,
               triggered, flagged, is_computable, computed_from, reason
        from objectivity.mart_objectivity_flags where work_code <> 'ALL'""",
        key,
    )
    assert participants[key].equals(reports[key])
    computable = reports["is_computable"]
    assert set(reports.loc[computable, "sign"]) == set(REPORT_LEVELS)
    assert (reports.loc[computable, "computed_from"] == reports.loc[computable, "sign"].map(REPORT_LEVELS)).all()
    assert participants.loc[computable, "computed_from"].eq("participant_rows").all()
    same_statistic = computable & (reports["sign"] != "vpr_above_journal")
    measured = ["n", "estimate", "ci_low", "ci_high", "reference", "threshold", "z_score", "triggered"]
    pd.testing.assert_frame_equal(
        participants.loc[same_statistic, measured], reports.loc[same_statistic, measured], check_dtype=False, atol=1e-9
    )
    assert reports.loc[same_statistic, "triggered"].any()
    journal = computable & (reports["sign"] == "vpr_above_journal")
    assert participants.loc[journal, "n"].equals(reports.loc[journal, "n"])
    assert reports.loc[journal, "estimate"].between(0, 1).all()
    needs_rows = reports["sign"].isin(PARTICIPANT_ROW_SIGNS)
    assert not computable[needs_rows].any()
    assert reports.loc[needs_rows, "reason"].str.contains("только по строкам участников").all()
    # a sign the reports allow is missing only where the participant rows cannot give it either
    missing = ~computable & ~needs_rows
    assert not participants.loc[missing, "is_computable"].any()
    assert participants.loc[missing, "reason"].equals(reports.loc[missing, "reason"])


def test_pooled_evidence_of_a_sign_is_the_same_at_both_levels(two_levels):
    """The heaping sign is computed the same way from the score distribution: its evidence pooled over the
    school's works and years is equal; only the false-discovery control, over fewer hypotheses with
    reports only, may decide differently."""
    key = ["year", "login", "sign"]
    participants, reports = _both(
        two_levels,
        """
        select year, login, sign, works, pooled_z, p_value
        from objectivity.obj_school_year_evidence where sign = 'heaping_at_cuts'""",
        key,
    )
    assert len(reports) >= 50
    assert participants[key].equals(reports[key])
    pd.testing.assert_frame_equal(
        participants[["works", "pooled_z", "p_value"]],
        reports[["works", "pooled_z", "p_value"]],
        check_dtype=False,
        atol=1e-9,
    )


def test_a_landing_of_reports_only_is_published(two_levels, tmp_path):
    """The monitoring job (checks, dbt build, publication) on the generated reports-only landing: the release
    holds the indicators, the ШНОР flags and the signs flagged from the reports."""
    env = environment(tmp_path, two_levels["reports_landing"])
    for folder in ("warehouse", "dagster_home"):
        (tmp_path / folder).mkdir()
    shutil.copy(REPO_ROOT / "config" / "dagster.yaml", tmp_path / "dagster_home" / "dagster.yaml")
    shutil.copy(two_levels["reports"], env["WAREHOUSE_PATH"])
    with patched_environ(env):
        result = run_monitoring_job(dg.DagsterInstance.get())
    assert result.success
    with open_current(env["PUBLISH_DIR"]).connect() as con:
        [(vpr_works, with_values)] = con.execute("""select count(*), count(fail_share_pct)
                                                    from school_work_indicators where assessment = 'ВПР'""").fetchall()
        shnor = con.execute("select count(*) from school_flags where is_shnor_computed").fetchone()[0]
        levels = {level for (level,) in con.execute("select distinct computed_from from objectivity_flags").fetchall()}
    expected = pd.read_csv(two_levels["truth"] / "shnor_expected.csv")
    assert vpr_works > 100 and with_values > 0.8 * vpr_works
    assert shnor == len(expected)
    assert levels and levels <= set(REPORT_LEVELS.values())
