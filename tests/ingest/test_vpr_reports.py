"""ФИС ОКО aggregated reports (B1–B3): read unchanged, percentages turned into counts, rounding checked."""

import shutil

import pytest

from pipelines.ingest.load import load_landing
from tests.ingest.conftest import (
    FLAT_MARKS,
    JOURNAL_COMPARISON,
    MARK_STATISTICS,
    REAL_DIR,
    needs_real,
    score_distribution,
)

SOURCES = {"schools", "vpr_report_counts"}
B1_REAL = "report_F3_mark_statistics_2026_RU4.xlsx"
B2_REAL = "report_journal_comparison_2024_MA4.xlsx"


def _rows(con, where="true"):
    return con.execute(f"""
        select group_level, group_name, login, municipality_code, participants, measure, percent, count
        from raw.vpr_report_counts where {where} order by _source_file, _row_number, measure""").fetchall()


@needs_real
def test_real_mark_statistics_reads_unchanged(empty_landing, con):
    target = empty_landing.root / "vpr_reports" / "2026" / B1_REAL
    target.parent.mkdir(parents=True)
    shutil.copyfile(REAL_DIR / "vpr" / B1_REAL, target)

    report = load_landing(empty_landing.root, con, sources={"vpr_report_counts"})["vpr_report_counts"]

    assert report.files_loaded == [f"vpr_reports/2026/{B1_REAL}"] and report.rows_rejected == 0
    assert [i for i in report.issues if i.severity == "error"] == []
    [(year, work, kind, title, date, maximum, sheet)] = con.execute("""
        select distinct year, work_code, report, report_title, report_date, max_primary_score, _sheet
        from raw.vpr_report_counts""").fetchall()
    assert (year, work, kind, title, date, maximum, sheet) == (
        2026,
        "RU4",
        "mark_statistics",
        "Статистика по отметкам",
        "20.04.2026",
        24,
        "РУ 4 Статистика по отметкам",
    )
    groups = con.execute("""select _row_number, group_level, group_name, login, municipality_code, schools,
                                   participants,
                                   list(count order by measure)
                            from raw.vpr_report_counts group by all order by _row_number""").fetchall()
    assert groups == [
        (9, "all", "Вся выборка", None, None, 35589, 1722202, [87143, 566949, 763452, 304658]),
        (10, "region", "Чеченская Республика", None, None, 560, 30216, [4061, 13340, 10962, 1855]),
        (
            11,
            "municipality",
            "Урус-Мартановский муниципальный район",
            None,
            "reg20_m012",
            47,
            3162,
            [429, 1483, 1064, 186],
        ),
        (12, "school", "МБОУ «СОШ №1 г.Урус-Мартан»", "edu203389", "reg20_m012", None, 89, [11, 47, 24, 7]),
    ]


@needs_real
def test_real_journal_comparison_reads_unchanged(empty_landing, con):
    target = empty_landing.root / "vpr_reports" / B2_REAL
    target.parent.mkdir(parents=True)
    shutil.copyfile(REAL_DIR / "vpr" / B2_REAL, target)

    report = load_landing(empty_landing.root, con, sources={"vpr_report_counts"})["vpr_report_counts"]

    assert report.files_loaded == [f"vpr_reports/{B2_REAL}"] and report.rows_rejected == 0
    groups = con.execute("""select group_level, login, participants, list(count order by measure),
                                   bool_and(count_in_file), any_value(work_code), any_value(year)
                            from raw.vpr_report_counts group by _row_number, group_level, login, participants
                            order by _row_number""").fetchall()
    # confirmed, lowered, raised; the region's 3 pupils without a journal mark are in the total only
    assert groups == [
        ("region", None, 29589, [17951, 11011, 624], True, "MA4", 2024),
        ("municipality", None, 2817, [1596, 1151, 70], True, "MA4", 2024),
        ("school", "edu203389", 93, [37, 52, 4], True, "MA4", 2024),
    ]


def test_mark_statistics_become_counts_per_school(empty_landing, con):
    empty_landing.registry()
    empty_landing.vpr_report()
    report = load_landing(empty_landing.root, con, sources=SOURCES)["vpr_report_counts"]

    assert report.rows_rejected == 0 and report.files_quarantined == []
    counts = con.execute("""select login, list(count order by measure) from raw.vpr_report_counts
                            where group_level = 'school' group by login order by login""").fetchall()
    assert counts == [("sch860001", [2, 8, 7, 3]), ("sch860002", [3, 4, 1, 0]), ("sch860003", [0, 3, 5, 4])]
    levels = con.execute(
        "select distinct group_level, municipality_code from raw.vpr_report_counts order by all"
    ).fetchall()
    assert levels == [("all", None), ("municipality", "reg25_m014"), ("region", None), ("school", "reg25_m014")]


def test_percentages_that_do_not_add_up_are_reported_with_file_row_and_column(empty_landing, con):
    rows = [list(r) for r in MARK_STATISTICS]
    rows[5][3] = 15.0  # sch860002: 15 + 50 + 12,5 + 0 % of 8 = 6 pupils (1 + 4 + 1 + 0), not 8
    empty_landing.registry()
    empty_landing.vpr_report(rows=rows)

    report = load_landing(empty_landing.root, con, sources=SOURCES)["vpr_report_counts"]

    [issue] = [i for i in report.issues if i.rule == "report_rounding"]
    assert issue.message == (
        "vpr_reports/2023/Статистика по отметкам.xlsx, sheet «МА 5 Статистика по отметкам», "
        "row 13, column «Кол-во участников»: the percentages 15 + 50 + 12,5 + 0 of 8 "
        "participants give 6 pupils, not 8 (more than 1 apart)"
    )
    assert (issue.row, issue.column) == (13, "Кол-во участников")
    # the row is left out, the rest of the report loads
    assert report.rows_rejected == 4
    assert {
        login
        for (login,) in con.execute(
            "select distinct login from raw.vpr_report_counts where login is not null"
        ).fetchall()
    } == {"sch860001", "sch860003"}


def test_journal_comparison_and_score_distribution(empty_landing, con):
    empty_landing.registry()
    empty_landing.vpr_report(
        rows=JOURNAL_COMPARISON,
        report="Сравнение отметок с отметками по журналу",
        sheet="МА 5 Сравнение отметок с отметк",
        name="Сравнение.xlsx",
    )
    empty_landing.vpr_report(
        rows=score_distribution(),
        report="Распределение первичных баллов",
        sheet="МА 5 Распределение первичных б",
        name="Распределение.xlsx",
    )
    report = load_landing(empty_landing.root, con, sources=SOURCES)["vpr_report_counts"]

    assert report.rows_rejected == 0 and len(report.files_loaded) == 2
    journal = con.execute("""select login, list(count order by measure) from raw.vpr_report_counts
                             where report = 'journal_comparison' and group_level = 'school'
                             group by login order by login""").fetchall()
    assert journal == [("sch860001", [10, 5, 5]), ("sch860002", [4, 0, 4])]
    scores = con.execute("""select measure_value, count from raw.vpr_report_counts
                            where report = 'score_distribution' and count > 0 order by measure_value""").fetchall()
    assert sum(c for _, c in scores) == 20 and len(scores) == 3


def test_flattened_export_one_row_per_school_and_work(empty_landing, con):
    empty_landing.registry()
    empty_landing.flat_report()
    report = load_landing(empty_landing.root, con, sources=SOURCES)["vpr_report_counts"]

    assert report.rows_rejected == 0, report.issues
    rows = con.execute("""select login, year, work_code, layout, list(count order by measure)
                          from raw.vpr_report_counts group by all order by login""").fetchall()
    assert rows == [
        ("sch860001", 2023, "MA5", "flattened", [2, 8, 7, 3]),
        ("sch860002", 2023, "RU5", "flattened", [3, 4, 1, 0]),
    ]
    assert FLAT_MARKS[0][4] == "Логин"


def test_a_report_among_participant_files_is_sent_to_its_folder(empty_landing, con):
    empty_landing.registry()
    path = empty_landing.vpr_report()
    moved = empty_landing.root / "vpr" / "2023" / path.name
    moved.parent.mkdir(parents=True)
    path.rename(moved)

    report = load_landing(empty_landing.root, con, sources={"schools", "vpr_results"})["vpr_results"]

    [issue] = report.issues
    assert issue.message == (
        "vpr/2023/Статистика по отметкам.xlsx: this is the ФИС ОКО report «Статистика по "
        "отметкам», not participant results: put it under vpr_reports/ (e.g. "
        "vpr_reports/<YYYY>/), where reports are read"
    )


@pytest.mark.parametrize("maximum", [None, 99])
def test_the_maximum_of_the_title_block_is_checked_against_the_work(empty_landing, con, maximum):
    empty_landing.registry()
    empty_landing.vpr_report(max_score=maximum)
    report = load_landing(empty_landing.root, con, sources=SOURCES)["vpr_report_counts"]
    assert bool(report.files_quarantined) == (maximum == 99)
