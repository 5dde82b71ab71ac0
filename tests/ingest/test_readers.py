"""Messy files as people send them: encodings, title rows, merged cells, stray spaces, the real FIOKO list."""

import hashlib
import shutil

import pytest
from python_calamine import CalamineWorkbook

from pipelines.ingest.load import load_landing
from tests.ingest.conftest import GIA_ROWS, REAL_MARKERS, REGISTRY, SHNOR, VPR_ROWS, write_xlsx

GIA_COLUMNS = "year, exam_type, subject_code, subject_name, login, participant_code, primary_score, test_score, mark, " \
              "min_score, percent_complete, is_retake, form, _row_number"


@pytest.mark.parametrize("encoding", ["cp1251", "utf-8-sig", "utf-8"])
def test_gia_csv_loads_in_every_encoding_windows_tools_write(empty_landing, con, encoding):
    empty_landing.registry()
    empty_landing.gia(encoding=encoding)

    report = load_landing(empty_landing.root, con)["gia_results"]

    assert report.files_loaded == ["gia/gia_2023.csv"]
    assert con.execute(f"select {GIA_COLUMNS} from raw.gia_results order by _row_number").fetchall() == [
        (2023, "ОГЭ", 1, "Русский язык", "sch860001", "P-8F3A21C0", 27, None, 4, None, 81.8, False, "экзамен", 2),
        (2023, "ЕГЭ", 2, "Математика (профильная)", "sch860001", "P-1B77E902", 11, 68, None, 27, 57.9, False, "экзамен", 3),
        (2023, "ЕГЭ", 22, "Математика (базовая)", "sch860003", "P-02CC1A9E", 14, None, 4, 3, 66.7, False, "экзамен", 4),
        (2023, "ОГЭ", 2, "Математика", "sch860002", "P-77A0B3F1", None, None, 4, None, None, False,
         "промежуточная аттестация", 5),
    ]


def test_csv_line_numbers_count_blank_lines(empty_landing, con):
    empty_landing.registry()
    empty_landing.gia(lines=[GIA_ROWS[0], GIA_ROWS[1], "", GIA_ROWS[2]])

    load_landing(empty_landing.root, con)

    assert con.execute("select _row_number from raw.gia_results order by 1").fetchall() == [(2,), (4,)]


def test_mixed_case_logins_spaced_headers_and_title_rows_of_any_height(empty_landing, con):
    registry = [[" Логин ", "Полное  наименование", *REGISTRY[0][2:]], *REGISTRY[1:]]
    registry[1] = [" SCH860001  ", *registry[1][1:]]
    write_xlsx(empty_landing.root / "registry" / "schools.xlsx", "Реестр ОО",
               [["Реестр ОО"], ["по состоянию на 01.09.2024"], ["составил: отдел образования"], [], [], *registry])
    empty_landing.shnor(rows=[SHNOR[0], [2023, "Sch860002", *SHNOR[1][2:]]])

    reports = load_landing(empty_landing.root, con)

    assert reports["schools"].files_loaded and reports["fioko_shnor"].files_loaded
    assert con.execute("select login, _row_number from raw.schools order by 1").fetchall() == [
        ("sch860001", 7), ("sch860002", 8), ("sch860003", 9)]
    assert con.execute("select login from raw.fioko_shnor").fetchall() == [("sch860002",)]


def test_merged_cells_give_every_row_their_value(empty_landing, con):
    empty_landing.registry()
    rows = [["Перечень ОО с низкими образовательными результатами, 2023"], [], SHNOR[0],
            [2023, "sch860001", "МБОУ «СОШ № 1»", None, "Сильно неуспевающие"],
            [2023, "sch860002", "МКОУ «ООШ с. Киевка»", None, "Умеренно неуспевающие"]]
    write_xlsx(empty_landing.root / "fioko" / "shnor_2023.xlsx", "Перечень", rows,
               merges=((0, 0, 0, 4, rows[0][0]), (3, 3, 4, 3, "Лазовский муниципальный округ")))

    load_landing(empty_landing.root, con)

    assert con.execute("select login, municipality from raw.fioko_shnor order by 1").fetchall() == [
        ("sch860001", "Лазовский муниципальный округ"), ("sch860002", "Лазовский муниципальный округ")]


def test_tasks_not_attempted_are_null_and_numbers_typed_as_text_are_numbers(empty_landing, con):
    empty_landing.registry()
    empty_landing.vpr_form(tasks=["1", "2.1", "2.2"], rows=[
        ["P-1", "5А", "1", "х", "1", " 2 ", "3", "4", "", "Ж "],  # Cyrillic х, numbers as text, spaces
        [*VPR_ROWS[1]],
    ])

    load_landing(empty_landing.root, con)

    assert con.execute("select participant_code, variant, task_scores, task_max, primary_score, mark, journal_mark, sex "
                       "from raw.vpr_results order by _row_number").fetchall() == [
        ("P-1", 1, [None, 1, 2], [1, 1, 2], 3, 4, None, "Ж"),
        ("P-1B77E902", 2, [None, 1, 1], [1, 1, 2], 2, 3, None, "М"),
    ]


def test_excel_lock_files_and_other_folders_are_not_inputs(landing, con):
    (landing.root / "registry" / "~$schools.xlsx").write_bytes(b"lock")
    (landing.root / "ground_truth").mkdir()
    (landing.root / "ground_truth" / "planted.csv").write_text("login\n")

    reports = load_landing(landing.root, con)

    assert reports["schools"].files_found == ["registry/schools.xlsx"]
    assert not any(r.files_quarantined for r in reports.values())


@pytest.mark.skipif(not REAL_MARKERS.exists(), reason="the real FIOKO file is not in ../shared/real")
def test_the_real_dagestan_list_loads_unchanged_with_empty_markers_kept(empty_landing, con):
    original = hashlib.sha256(REAL_MARKERS.read_bytes()).hexdigest()
    target = empty_landing.root / "fioko" / "objectivity_markers_dagestan_2023_2025.xlsx"
    target.parent.mkdir(parents=True)
    shutil.copyfile(REAL_MARKERS, target)
    logins = sorted({str(row[1]).strip().lower() for row in CalamineWorkbook.from_path(str(REAL_MARKERS))
                     .get_sheet_by_index(0).to_python()[1:]})
    empty_landing.registry([REGISTRY[0], *[[login, "", "", "Республика Дагестан", "село", "СОШ", 100, 1970]
                                           for login in logins]])

    report = load_landing(empty_landing.root, con)["fioko_objectivity_markers"]

    assert report.files_loaded == ["fioko/objectivity_markers_dagestan_2023_2025.xlsx"]
    assert con.execute("select count(*), count(distinct login) from raw.fioko_objectivity_markers").fetchall() == [(599 * 4, 341)]
    assert dict(con.execute("select year, count(*) // 4 from raw.fioko_objectivity_markers group by 1").fetchall()) == \
        {2023: 159, 2024: 296, 2025: 144}
    assert dict(con.execute("select marker_column, count(*) filter (where marker is null) "
                            "from raw.fioko_objectivity_markers group by 1").fetchall()) == \
        {"4 РУ": 100, "4 МА": 99, "5 РУ": 105, "5 МА": 105}
    assert con.execute("select count(*) filter (where marker = 0), count(*) filter (where marker = 1) "
                       "from raw.fioko_objectivity_markers").fetchall() == [(1165, 822)]
    assert con.execute("""select count(*) from (select _row_number, any_value(marker_count) c, sum(marker) s
                          from raw.fioko_objectivity_markers group by _row_number) where c <> coalesce(s, 0)""") \
        .fetchall() == [(0,)]
    assert dict(con.execute("select distinct marker_column, work_code from raw.fioko_objectivity_markers").fetchall()) \
        == {"4 РУ": "RU4", "4 МА": "MA4", "5 РУ": "RU5", "5 МА": "MA5"}
    # 2024 is published twice over: every repeat is kept, with a warning naming the row it repeats
    repeats = [i for i in report.issues if i.rule == "repeated_row"]
    assert len(repeats) == 148 and all(i.severity == "warning" for i in repeats)
    assert hashlib.sha256(REAL_MARKERS.read_bytes()).hexdigest() == original == hashlib.sha256(target.read_bytes()).hexdigest()
