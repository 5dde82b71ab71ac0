"""A landing folder with only ФИС ОКО aggregated reports (and a registry) publishes indicators, ШНОР flags
and the objectivity signs the reports allow; a school with participant rows too is counted from them and
every disagreement with its report is listed.
"""

import duckdb
import pytest

from pipelines.ingest.load import load_landing
from tests.dbt.test_marts import _dbt
from tests.ingest.conftest import JOURNAL_COMPARISON, VPR_ROWS, Landing

STATISTICS_HEADER = ["Группы участников", "Кол-во ОО", "Кол-во участников", 2, 3, 4, 5]
# (login, participants, % of 2, 3, 4, 5) per year and work. sch860002 has ≥ 30 % «2» in both grade-5 works
# of 2023: ШНОР in 2024 (two low works in the year before). sch860001 is low in MA5 2023 only.
SCHOOLS = {
    (2023, "MA5"): [("sch860001", 20, 30.0, 40.0, 20.0, 10.0), ("sch860002", 8, 37.5, 50.0, 12.5, 0),
                    ("sch860003", 12, 0, 25.0, 41.67, 33.33)],
    (2023, "RU5"): [("sch860001", 20, 10.0, 40.0, 35.0, 15.0), ("sch860002", 10, 30.0, 40.0, 30.0, 0),
                    ("sch860003", 12, 0, 25.0, 50.0, 25.0)],
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
    write_xlsx(landing.root / "vpr_reports" / str(year) / f"{work} Статистика по отметкам.xlsx",
               f"{abbreviation} 5 Статистика по отметкам", [*title, *rows])


@pytest.fixture(scope="module")
def reports_only(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("reports_only")
    landing, database = Landing(tmp / "landing"), tmp / "monitoring.duckdb"
    landing.registry()
    for year, work in SCHOOLS:
        statistics(landing, year, work)
    landing.vpr_report(rows=JOURNAL_COMPARISON, report="Сравнение отметок с отметками по журналу",
                       sheet="МА 5 Сравнение отметок с отметк", name="Сравнение.xlsx")
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
    for sign in ("task_inversion", "not_confirmed_by_gia"):
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
