"""Messy files as people send them: encodings, title rows, merged cells, stray spaces, the real FIOKO list."""

import hashlib
import shutil

import pytest
from python_calamine import CalamineWorkbook

from pipelines.ingest.load import load_landing
from tests.ingest.conftest import (
    FIRST_TASK,
    GIA_ROWS,
    JOURNAL,
    REAL_MARKERS,
    REGISTRY,
    SHNOR,
    TASK_COLUMNS,
    VPR_HEADER,
    pupil,
    write_xlsx,
)

GIA_COLUMNS = (
    "year, exam_type, subject_code, subject_name, login, participant_code, primary_score, test_score, mark, "
    "min_score, percent_complete, is_retake, form, _row_number"
)


@pytest.mark.parametrize("encoding", ["cp1251", "utf-8-sig", "utf-8"])
def test_gia_csv_loads_in_every_encoding_windows_tools_write(empty_landing, con, encoding):
    empty_landing.registry()
    empty_landing.gia(encoding=encoding)

    report = load_landing(empty_landing.root, con)["gia_results"]

    assert report.files_loaded == ["gia/gia_2023.csv"]
    assert con.execute(f"select {GIA_COLUMNS} from raw.gia_results order by _row_number").fetchall() == [
        (2023, "ОГЭ", 1, "Русский язык", "sch860001", "P-8F3A21C0", 27, None, 4, None, 81.8, False, "экзамен", 2),
        (
            2023,
            "ЕГЭ",
            2,
            "Математика (профильная)",
            "sch860001",
            "P-1B77E902",
            11,
            68,
            None,
            27,
            57.9,
            False,
            "экзамен",
            3,
        ),
        (2023, "ЕГЭ", 22, "Математика (базовая)", "sch860003", "P-02CC1A9E", 14, None, 4, 3, 66.7, False, "экзамен", 4),
        (
            2023,
            "ОГЭ",
            2,
            "Математика",
            "sch860002",
            "P-77A0B3F1",
            None,
            None,
            4,
            None,
            None,
            False,
            "промежуточная аттестация",
            5,
        ),
    ]


def test_csv_line_numbers_count_blank_lines(empty_landing, con):
    empty_landing.registry()
    empty_landing.gia(lines=[GIA_ROWS[0], GIA_ROWS[1], "", GIA_ROWS[2]])

    load_landing(empty_landing.root, con)

    assert con.execute("select _row_number from raw.gia_results order by 1").fetchall() == [(2,), (4,)]


def test_mixed_case_logins_spaced_headers_and_title_rows_of_any_height(empty_landing, con):
    registry = [[" Логин ", "Полное  наименование", *REGISTRY[0][2:]], *REGISTRY[1:]]
    registry[1] = [" SCH860001  ", *registry[1][1:]]
    write_xlsx(
        empty_landing.root / "registry" / "schools.xlsx",
        "Реестр ОО",
        [["Реестр ОО"], ["по состоянию на 01.09.2024"], ["составил: отдел образования"], [], [], *registry],
    )
    empty_landing.shnor(rows=[SHNOR[0], [2023, "Sch860002", *SHNOR[1][2:]]])

    reports = load_landing(empty_landing.root, con)

    assert reports["schools"].files_loaded and reports["fioko_shnor"].files_loaded
    assert con.execute("select login, _row_number from raw.schools order by 1").fetchall() == [
        ("sch860001", 7),
        ("sch860002", 8),
        ("sch860003", 9),
    ]
    assert con.execute("select login from raw.fioko_shnor").fetchall() == [("sch860002",)]


def test_merged_cells_give_every_row_their_value(empty_landing, con):
    empty_landing.registry()
    rows = [
        ["Перечень ОО с низкими образовательными результатами, 2023"],
        [],
        SHNOR[0],
        [2023, "sch860001", "МБОУ «СОШ № 1»", None, "Сильно неуспевающие"],
        [2023, "sch860002", "МКОУ «ООШ с. Киевка»", None, "Умеренно неуспевающие"],
    ]
    write_xlsx(
        empty_landing.root / "fioko" / "shnor_2023.xlsx",
        "Перечень",
        rows,
        merges=((0, 0, 0, 4, rows[0][0]), (3, 3, 4, 3, "Лазовский муниципальный округ")),
    )

    load_landing(empty_landing.root, con)

    assert con.execute("select login, municipality from raw.fioko_shnor order by 1").fetchall() == [
        ("sch860001", "Лазовский муниципальный округ"),
        ("sch860002", "Лазовский муниципальный округ"),
    ]


A3_HEADER = [
    "логин школы",
    "регион",
    "номер обучающегося",
    "код обучающегося",
    "отметка за предыдущую четверть/триместр",
    "пол",
    "класс",
    "вариант",
    "всего баллов",
    *(f"балл за {n}" for n in range(1, TASK_COLUMNS + 1)),
    "Учебник",
    "Др.уч. автор",
    "Др.уч. название",
]


def a3_row(login, number, journal, sex, klass, variant, scores, total=None):
    """A row of the 2021 region export: every cell text, as the export writes it."""
    scores = [*scores, *["0"] * (TASK_COLUMNS - len(scores))]
    summed = sum(int(s) for s in scores if s.strip().isdigit())
    return [
        login,
        "город Барнаул",
        str(number),
        f"5{number:04d}",
        journal,
        sex,
        klass,
        variant,
        str(summed if total is None else total),
        *scores,
        "Учебник",
        "",
        "",
    ]


def test_region_export_2021_maps_every_value_quirk_onto_the_participant_contract(empty_landing, con):
    empty_landing.registry()
    write_xlsx(
        empty_landing.root / "vpr" / "2023" / "Проведение работы по математике, 5 класс. ВПР 2023.xlsx",
        "Sheet",
        [
            A3_HEADER,
            a3_row("sch860001", 1, "4", "м", "А", "1", ["1", "X", "x", "Х", "X ", "не пройд.", "H", " 1 "]),
            a3_row("SCH860001 ", 2, "нет отметки", "Ж", "нет", "2", ["1", "1"]),
            a3_row("sch860002", 3, "", "ж", "5б", "отсутствовал", [""] * TASK_COLUMNS, total=""),
            [*a3_row("sch860002", 4, "5", "М", "Б", "1", ["0"]), "", "лишняя ячейка"],
        ],
    )

    report = load_landing(empty_landing.root, con)["vpr_results"]

    assert report.files_loaded and not report.files_quarantined
    rows = con.execute(
        "select login, participant_code, is_absent, class_letter, sex, variant, journal_mark, "
        "task_scores[1:8], primary_score, mark, layout from raw.vpr_results order by _row_number"
    ).fetchall()
    not_attempted = [None] * 6
    assert rows == [
        ("sch860001", "50001", False, "А", "М", 1, 4, [1, *not_attempted, 1], 2, None, "region_export_2021"),
        ("sch860001", "50002", False, None, "Ж", 2, None, [1, 1, 0, 0, 0, 0, 0, 0], 2, None, "region_export_2021"),
        ("sch860002", "50003", True, "5Б", "Ж", None, None, [None] * 8, None, None, "region_export_2021"),
        ("sch860002", "50004", False, "Б", "М", 1, 5, [0] * 8, 0, None, "region_export_2021"),
    ]
    [extra] = [issue for issue in report.issues if issue.rule == "beyond_header"]
    assert extra.row == 5 and extra.severity == "warning"


def test_region_protocols_read_the_login_of_each_row_and_numbers_stored_as_text(empty_landing, con):
    empty_landing.registry()
    prefix = ["Пользователь", "Код региона", "Регион", "Муниципалитет", "Школа", "Дата загрузки"]
    header = [
        *prefix,
        *VPR_HEADER[: FIRST_TASK + TASK_COLUMNS],
        "Наименование класса",
        "Пол",
        VPR_HEADER[JOURNAL],
        "Итого баллов",
    ]
    school = [
        "sch860003",
        86.0,
        "reg860000 | Ханты-Мансийский автономный округ",
        "reg86_m001 | Лазовский",
        "sch860003 | МБОУ «Гимназия № 3»",
        "17.03.2023 05:09:18",
    ]
    write_xlsx(
        empty_landing.root / "vpr" / "2023" / "5" / "Математика.xlsx",
        "Протокол",
        [
            header,
            [
                *school,
                50001.0,
                1.0,
                *pupil(0, 0, ["1", 1.0])[FIRST_TASK : FIRST_TASK + TASK_COLUMNS],
                "5а",
                "ж",
                "4",
                2.0,
            ],
            [
                *school[:4],
                "МБОУ «СОШ № 1» (sch860001)",
                school[5],
                50002.0,
                "2",
                *pupil(0, 0, [1])[2 : 2 + TASK_COLUMNS],
                "нет",
                "м",
                3.0,
                "1",
            ],
        ],
    )

    report = load_landing(empty_landing.root, con)["vpr_results"]

    assert report.files_loaded == ["vpr/2023/5/Математика.xlsx"]
    assert con.execute(
        "select login, work_code, participant_code, class_letter, variant, primary_score, journal_mark "
        "from raw.vpr_results order by _row_number"
    ).fetchall() == [("sch860003", "MA5", "50001", "5А", 1, 2, 4), ("sch860003", "MA5", "50002", None, 2, 1, 3)]


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
    logins = sorted(
        {
            str(row[1]).strip().lower()
            for row in CalamineWorkbook.from_path(str(REAL_MARKERS)).get_sheet_by_index(0).to_python()[1:]
        }
    )
    empty_landing.registry(
        [REGISTRY[0], *[[login, "", "", "Республика Дагестан", "село", "СОШ", 100, 1970] for login in logins]]
    )

    report = load_landing(empty_landing.root, con)["fioko_objectivity_markers"]

    assert report.files_loaded == ["fioko/objectivity_markers_dagestan_2023_2025.xlsx"]
    assert con.execute("select count(*), count(distinct login) from raw.fioko_objectivity_markers").fetchall() == [
        (599 * 4, 341)
    ]
    assert dict(con.execute("select year, count(*) // 4 from raw.fioko_objectivity_markers group by 1").fetchall()) == {
        2023: 159,
        2024: 296,
        2025: 144,
    }
    assert dict(
        con.execute(
            "select marker_column, count(*) filter (where marker is null) from raw.fioko_objectivity_markers group by 1"
        ).fetchall()
    ) == {"4 РУ": 100, "4 МА": 99, "5 РУ": 105, "5 МА": 105}
    assert con.execute(
        "select count(*) filter (where marker = 0), count(*) filter (where marker = 1) "
        "from raw.fioko_objectivity_markers"
    ).fetchall() == [(1165, 822)]
    assert con.execute("""select count(*) from (select _row_number, any_value(marker_count) c, sum(marker) s
            from raw.fioko_objectivity_markers group by _row_number) where c <> coalesce(s, 0)""").fetchall() == [(0,)]
    assert dict(
        con.execute("select distinct marker_column, work_code from raw.fioko_objectivity_markers").fetchall()
    ) == {"4 РУ": "RU4", "4 МА": "MA4", "5 РУ": "RU5", "5 МА": "MA5"}
    # 2024 is published twice over: every repeat is kept, with a warning naming the row it repeats
    repeats = [i for i in report.issues if i.rule == "repeated_row"]
    assert len(repeats) == 148 and all(i.severity == "warning" for i in repeats)
    assert (
        hashlib.sha256(REAL_MARKERS.read_bytes()).hexdigest()
        == original
        == hashlib.sha256(target.read_bytes()).hexdigest()
    )


def test_a_region_export_and_a_school_form_of_the_same_work_count_each_pupil_once(empty_landing, con):
    empty_landing.registry()
    empty_landing.vpr_form()  # sch860001, MA5 2023: pupils 50001–50003
    write_xlsx(
        empty_landing.root / "vpr" / "2023" / "Проведение работы по математике, 5 класс. ВПР 2023.xlsx",
        "Sheet",
        [
            A3_HEADER,
            a3_row("sch860001", 1, "4", "ж", "А", "1", ["1", "0", "1"]),  # the same pupil as in the school's form
            a3_row("sch860002", 7, "3", "м", "А", "2", ["1"]),
        ],
    )

    report = load_landing(empty_landing.root, con)["vpr_results"]

    assert con.execute("select login, count(*) from raw.vpr_results group by 1 order by 1").fetchall() == [
        ("sch860001", 3),
        ("sch860002", 1),
    ]
    [repeat] = [issue for issue in report.issues if issue.rule == "one_row_per_key"]
    assert repeat.file.startswith("vpr/2023/Проведение") and repeat.row == 2
    assert "the first is vpr/2023/sch860001/Математика 5 класс.xlsx, row 2" in repeat.message
