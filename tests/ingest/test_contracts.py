"""Every rule of every contract: a file that breaks it, and the exact message a person gets.

Each case writes the registry and one broken file, loads the two sources, and checks the message, the
severity and what happened to the file: quarantined (error) or loaded with the issue recorded (warning).
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipelines.ingest.contracts import RULES, WARNING
from pipelines.ingest.load import load_landing
from tests.ingest.conftest import (
    FIRST_TASK,
    GIA_ROWS,
    JOURNAL,
    JOURNAL_COMPARISON,
    MARK_STATISTICS,
    MARKERS,
    PASSPORT,
    REGISTRY,
    REPORT_MARK,
    REPORT_ROWS,
    RISK,
    SEX,
    SHNOR,
    TOTAL,
    VPR_HEADER,
    VPR_ROWS,
    VPR_SPEC,
    Landing,
    pupil,
    set_cell,
    with_cell,
    write_xlsx,
)

NEXT_YEAR = dt.date.today().year + 1
FORM_FILE = "vpr/2023/sch860001/Математика 5 класс.xlsx"
FORM = f"{FORM_FILE}, sheet «Протокол»"
REPORT = "vpr/2023/Индивидуальные результаты.xlsx, sheet «МА 5 Индивидуальные результаты»"
TASK_1, TASK_2 = VPR_HEADER[FIRST_TASK], VPR_HEADER[FIRST_TASK + 1]
JOURNAL_HEADER = VPR_HEADER[JOURNAL]
GIA = "gia/gia_2023.csv"
REGISTRY_AT = "registry/schools.xlsx, sheet «Реестр ОО»"
SHNOR_AT = "fioko/shnor_2023.xlsx, sheet «Перечень»"
PASSPORT_AT = "social_passport/social_passport_2023.xlsx, sheet «Социальный паспорт»"
B1_AT = "vpr_reports/2023/Статистика по отметкам.xlsx, sheet «МА 5 Статистика по отметкам»"
B1_FILE = "vpr_reports/2023/Статистика по отметкам.xlsx"
MARKERS_AT = "fioko/objectivity_markers_2023.xlsx, sheet «Признаки необъективности папка »"


@dataclass(frozen=True)
class Case:
    rule: str
    source: str
    write: Callable[[Landing], Path]
    message: str
    row_level: bool = False  # a file of many schools: the failing row is left out, the others load
    rejected: int = 1  # raw rows left out with the failing row (a report row is one raw row per measure)


def vpr_cell(row: int, column: int, value) -> list[list]:
    return [with_cell(r, column, value) if n == row else r for n, r in enumerate(VPR_ROWS)]


def gia_cell(line: int, column: str, value: str) -> list[str]:
    """GIA lines with one cell of CSV line `line` (header = line 1) replaced."""
    lines = list(GIA_ROWS)
    cells = lines[line - 1].split(";")
    cells[GIA_ROWS[0].split(";").index(column)] = value
    lines[line - 1] = ";".join(cells)
    return lines


def eight_participants() -> list[list]:
    """Eight participants, so the last is on row 9 of the form; its second task scores 4 of 1."""
    rows = [pupil(50001 + n, 1, [1, 0]) for n in range(8)]
    rows[7] = pupil(50008, 1, [1, 4])
    return rows


def two_protocol_sheets(landing: Landing) -> Path:
    path = landing.vpr_form()
    import xlsxwriter

    workbook = xlsxwriter.Workbook(str(path))
    for sheet in ("Протокол", "Протокол_2"):
        worksheet = workbook.add_worksheet(sheet)
        for r, row in enumerate([VPR_HEADER, *VPR_ROWS]):
            worksheet.write_row(r, 0, row)
    workbook.close()
    return path


def report_cell(rows: list[list], row: int, column: int, value) -> list[list]:
    """A copy of report rows (header first) with one cell of data row `row` (0 = the first below the header) set."""
    rows = [list(r) for r in rows]
    rows[row + 1][column] = value
    return rows


CASES = [
    Case(
        "report_rounding",
        "vpr_report_counts",
        lambda l: l.vpr_report(rows=report_cell(MARK_STATISTICS, 4, 3, 15.0)),
        f"{B1_AT}, row 13, column «Кол-во участников»: the percentages 15 + 50 + 12,5 + 0 of 8 participants give "
        "6 pupils, not 8 (more than 1 apart)",
        row_level=True,
        rejected=4,
    ),
    Case(
        "report_percent_of_count",
        "vpr_report_counts",
        lambda l: l.vpr_report(
            rows=report_cell(JOURNAL_COMPARISON, 2, 2, 35.0),
            report="Сравнение отметок с отметками по журналу",
            name="Сравнение.xlsx",
            sheet="МА 5 Сравнение отметок с отметк",
        ),
        "vpr_reports/2023/Сравнение.xlsx, sheet «МА 5 Сравнение отметок с отметк», row 11, column «Понизили "
        "(Отметка < Отметка по журналу) %»: value 35 % does not match 5 of 20 = 25 %",
        row_level=True,
        rejected=3,
    ),
    Case(
        "vpr_report_group",
        "vpr_report_counts",
        lambda l: l.vpr_report(rows=[*MARK_STATISTICS, ["Школа (корпус 2)", None, 5, 0, 20.0, 40.0, 40.0]]),
        f"{B1_AT}, row 15, column «Группы участников»: «Школа (корпус 2)» is not «Вся выборка», a region, a "
        "municipality «…(reg20_m012)» or a school «…(edu203389)»",
        row_level=True,
        rejected=0,
    ),
    Case(
        "vpr_report_layout",
        "vpr_report_counts",
        lambda l: write_xlsx(l.root / "vpr_reports" / "2023" / "Отчёт.xlsx", "Лист1", [["Школа", "Балл"], ["-", 1]]),
        "vpr_reports/2023/Отчёт.xlsx: no sheet has the header of a ФИС ОКО report (docs/inputs.md): none of its "
        "first rows holds «Группы участников» or «Год», «Логин» and «Кол-во участников»",
    ),
    Case(
        "vpr_report_context",
        "vpr_report_counts",
        lambda l: write_xlsx(
            l.root / "vpr_reports" / "Статистика.xlsx", "Лист1", [["Статистика по отметкам"], [], *MARK_STATISTICS]
        ),
        "vpr_reports/Статистика.xlsx: could not tell the year and the subject and the grade of the report: its "
        "title block should hold a line such as «ВПР 2026 Русский язык 4 класс» (or the sheet be named «РУ 4 …»)",
    ),
    Case(
        "vpr_report_max_score",
        "vpr_report_counts",
        lambda l: l.vpr_report(max_score=99),
        f"{B1_FILE}: the title block gives a maximum primary score of 99; work MA5 of 2023 is configured "
        f"({VPR_SPEC.versions}) with {VPR_SPEC.max_primary_score}. If the report is right, extend "
        "dbt_project/seeds/vpr_works.csv and vpr_tasks.csv for 2023",
    ),
    Case(
        "number",
        "vpr_results",
        lambda l: l.vpr_form(rows=vpr_cell(0, JOURNAL, "пять")),
        f"{FORM}, row 2, column «{JOURNAL_HEADER}»: value «пять» is not a number",
    ),
    Case(
        "required",
        "vpr_results",
        lambda l: l.vpr_form(rows=vpr_cell(1, 0, None)),
        f"{FORM}, row 3, column «Код»: the value is missing",
    ),
    Case(
        "whole_number",
        "vpr_results",
        lambda l: l.vpr_form(rows=vpr_cell(0, FIRST_TASK, "1,5")),
        f"{FORM}, row 2, column «{TASK_1}»: value 1,5 is not a whole number",
    ),
    Case(
        "mark",
        "vpr_results",
        lambda l: l.report_f1(rows=[with_cell(REPORT_ROWS[0], REPORT_MARK, 6), REPORT_ROWS[1]]),
        f"{REPORT}, row 10, column «Отметка»: value 6 is not a mark 2–5",
        row_level=True,
    ),
    Case(
        "mark_of_scale",
        "vpr_results",
        lambda l: l.report_f1(rows=[with_cell(REPORT_ROWS[0], REPORT_MARK, 5), REPORT_ROWS[1]]),
        f"{REPORT}, row 10, column «Отметка»: mark 5 does not follow from the primary score 9: the scale of the year "
        "(cut scores for 3/4/5: 7/11/15) gives 3",
        row_level=True,
    ),
    Case(
        "journal_mark",
        "vpr_results",
        lambda l: l.vpr_form(rows=vpr_cell(0, JOURNAL, 1)),
        f"{FORM}, row 2, column «{JOURNAL_HEADER}»: value 1 is not a journal mark 2–5 "
        "(leave the cell empty when there is none)",
    ),
    Case(
        "task_score",
        "vpr_results",
        lambda l: l.vpr_form(rows=eight_participants()),
        f"{FORM}, row 9, column «{TASK_2}»: value 4 exceeds the task maximum {VPR_SPEC.task_max[1]}",
    ),
    Case(
        "total_of_tasks",
        "vpr_results",
        lambda l: l.vpr_form(rows=vpr_cell(2, TOTAL, 9)),
        f"{FORM}, row 4, column «Итого баллов»: total 9 differs from the sum of the task scores, 2",
    ),
    Case(
        "sex",
        "vpr_results",
        lambda l: l.vpr_form(rows=vpr_cell(1, SEX, "муж.")),
        f"{FORM}, row 3, column «Пол»: value «муж.» is not one of: М, Ж",
    ),
    Case(
        "one_row_per_key",
        "vpr_results",
        lambda l: l.vpr_form(rows=vpr_cell(2, 0, 50001)),
        f"{FORM}, row 4: a second row for Логин «sch860001», Код «50001»; the first is row 2",
    ),
    Case(
        "login_in_registry",
        "vpr_results",
        lambda l: l.vpr_form(login="sch860099"),
        "vpr/2023/sch860099/Математика 5 класс.xlsx: login «sch860099» is not in the school registry "
        "(from the file's name)",
    ),
    Case(
        "vpr_layout",
        "vpr_results",
        lambda l: write_xlsx(
            l.root / "vpr" / "2023" / "sch860001" / "Список.xlsx",
            "Лист1",
            [["Фамилия", "Имя", "Класс"], ["-", "-", "5А"]],
        ),
        "vpr/2023/sch860001/Список.xlsx: no sheet has the header row of a ВПР layout (docs/inputs.md): none of "
        "its first rows holds a participant code, a variant and a total",
    ),
    Case(
        "vpr_context",
        "vpr_results",
        lambda l: l.vpr_form(login="", name="Математика 5 класс.xlsx"),
        "vpr/2023/Математика 5 класс.xlsx: a form of one school does not name its school: put its ФИС ОКО login "
        "in the folder or file name, e.g. vpr/2023/sch860001/Математика 5 класс.xlsx",
    ),
    Case(
        "work_not_configured",
        "vpr_results",
        lambda l: l.vpr_form(name="География 10 класс.xlsx"),
        "vpr/2023/sch860001/География 10 класс.xlsx: work GG10 is not configured for any year: add its 2023 "
        "scale to dbt_project/seeds/vpr_works.csv and its tasks to vpr_tasks.csv to load this file",
    ),
    Case(
        "task_list",
        "vpr_results",
        lambda l: l.vpr_form(
            header=[*VPR_HEADER[: FIRST_TASK + 1], *VPR_HEADER[FIRST_TASK + 2 :]],
            rows=[row[: FIRST_TASK + 1] + row[FIRST_TASK + 2 :] for row in VPR_ROWS],
        ),
        f"{FORM_FILE}: the file has {len(VPR_SPEC.task_max) - 1} tasks, maxima "
        f"{', '.join(map(str, VPR_SPEC.task_max[:1] + VPR_SPEC.task_max[2:]))} "
        f"(sum {VPR_SPEC.max_primary_score - VPR_SPEC.task_max[1]}); work MA5 of 2023 is configured "
        f"({VPR_SPEC.versions}) with {len(VPR_SPEC.task_max)} tasks, maxima {', '.join(map(str, VPR_SPEC.task_max))} "
        f"(sum {VPR_SPEC.max_primary_score}). If the file is right, extend dbt_project/seeds/vpr_tasks.csv and "
        "vpr_works.csv for 2023",
    ),
    Case(
        "year_of_folder",
        "vpr_results",
        lambda l: l.report_f1(title_year=2022),
        "vpr/2023/Индивидуальные результаты.xlsx: the title says ВПР 2022, but the file is under the folder of "
        "2023: move it to vpr/2022/",
    ),
    Case(
        "beyond_header",
        "vpr_results",
        lambda l: l.vpr_form(rows=[[*VPR_ROWS[0], None, "примечание"], *VPR_ROWS[1:]]),
        f"{FORM}, row 2: 1 cell(s) right of the last header (column {len(VPR_HEADER) + 2} onwards) were not read",
    ),
    Case(
        "second_sheet",
        "vpr_results",
        two_protocol_sheets,
        f"{FORM_FILE}: sheet «Протокол_2» also holds results and was not read: one sheet of results per file",
    ),
    Case(
        "group_count",
        "vpr_results",
        lambda l: l.report_f1(announced=5),
        f"{REPORT}: the group row of sch860001 announces 5 participants, the file lists 2",
    ),
    Case(
        "file_name",
        "fioko_shnor",
        lambda l: l.shnor(rows=SHNOR).rename(l.root / "fioko" / "shnor_2023 (1).xlsx"),
        "fioko/shnor_2023 (1).xlsx: the file name should be fioko/shnor_<YYYY>.xlsx",
    ),
    Case(
        "not_negative",
        "gia_results",
        lambda l: l.gia(lines=gia_cell(2, "Первичный балл", "-3")),
        f"{GIA}, line 2, column «Первичный балл»: value -3 is negative",
    ),
    Case(
        "test_score",
        "gia_results",
        lambda l: l.gia(lines=gia_cell(3, "Тестовый балл", "104")),
        f"{GIA}, line 3, column «Тестовый балл»: value 104 is outside the test score range 0–100",
    ),
    Case(
        "percent",
        "gia_results",
        lambda l: l.gia(lines=gia_cell(4, "Процент выполнения", "120,5")),
        f"{GIA}, line 4, column «Процент выполнения»: value 120,5 is outside 0–100 %",
    ),
    Case(
        "flag",
        "gia_results",
        lambda l: l.gia(lines=gia_cell(2, "Пересдача", "2")),
        f"{GIA}, line 2, column «Пересдача»: value 2 is not 0 or 1",
    ),
    Case(
        "exam_type",
        "gia_results",
        lambda l: l.gia(lines=gia_cell(5, "Тип экзамена", "ОГЕ")),
        f"{GIA}, line 5, column «Тип экзамена»: value «ОГЕ» is not one of: ОГЭ, ЕГЭ, ГВЭ",
    ),
    Case(
        "gia_form",
        "gia_results",
        lambda l: l.gia(lines=gia_cell(2, "Форма", "досрочно")),
        f"{GIA}, line 2, column «Форма»: value «досрочно» is not one of: экзамен, промежуточная аттестация",
    ),
    Case(
        "year_of_file",
        "gia_results",
        lambda l: l.gia(lines=gia_cell(3, "Год", "2022")),
        f"{GIA}, line 3, column «Год»: year 2022 differs from the year in the file name, 2023",
    ),
    Case(
        "future_year",
        "gia_results",
        lambda l: l.gia(
            year=NEXT_YEAR, lines=[GIA_ROWS[0]] + [line.replace("2023;", f"{NEXT_YEAR};", 1) for line in GIA_ROWS[1:]]
        ),
        f"gia/gia_{NEXT_YEAR}.csv, line 2, column «Год»: year {NEXT_YEAR} is in the future: results and passports "
        f"go up to the current year, {NEXT_YEAR - 1}",
    ),
    Case(
        "future_list_year",
        "fioko_shnor",
        lambda l: l.shnor(year=NEXT_YEAR + 4, rows=set_cell(SHNOR, 0, "Год", NEXT_YEAR + 4)),
        f"fioko/shnor_{NEXT_YEAR + 4}.xlsx, sheet «Перечень», row 4, column «Год»: year {NEXT_YEAR + 4} is too far in "
        f"the future: a FIOKO list goes up to next year, {NEXT_YEAR}",
    ),
    Case(
        "header_not_found",
        "gia_results",
        lambda l: l.gia(lines=["Year;Exam", "2023;ОГЭ"]),
        f"{GIA}: no header line starting with «Год» in its first 30 lines",
    ),
    Case(
        "settlement_type",
        "schools",
        lambda l: l.registry(set_cell(REGISTRY, 1, "Тип населённого пункта", "деревня")),
        f"{REGISTRY_AT}, row 6, column «Тип населённого пункта»: value «деревня» is not one of: "
        "город, посёлок городского типа, село",
    ),
    Case(
        "school_type",
        "schools",
        lambda l: l.registry(set_cell(REGISTRY, 0, "Тип ОО", "колледж")),
        f"{REGISTRY_AT}, row 5, column «Тип ОО»: value «колледж» is not one of: НОШ, ООШ, СОШ, СОШ с УИОП, "
        "гимназия, лицей, вечерняя (сменная), интернат, коррекционная",
    ),
    Case(
        "login_format",
        "schools",
        lambda l: l.registry(set_cell(REGISTRY, 2, "Логин", "школа 3")),
        f"{REGISTRY_AT}, row 7, column «Логин»: value «школа 3» is not a login such as sch860001",
    ),
    Case(
        "year_range",
        "schools",
        lambda l: l.registry(set_cell(REGISTRY, 0, "Год открытия", 1066)),
        f"{REGISTRY_AT}, row 5, column «Год открытия»: value 1066 is not a plausible year",
    ),
    Case(
        "shnor_level",
        "fioko_shnor",
        lambda l: l.shnor(rows=set_cell(SHNOR, 0, "Уровень результатов", "Средне неуспевающие")),
        f"{SHNOR_AT}, row 4, column «Уровень результатов»: value «Средне неуспевающие» is not one of: "
        "Сильно неуспевающие, Умеренно неуспевающие, Базово неуспевающие",
    ),
    Case(
        "conflicting_row",
        "fioko_shnor",
        lambda l: l.shnor(
            rows=[
                *SHNOR,
                [2023, "SCH860002 ", "МКОУ «ООШ с. Киевка»", "Лазовский муниципальный округ", "Сильно неуспевающие"],
            ]
        ),
        f"{SHNOR_AT}, row 5: a second row for Год 2023, Логин «sch860002» with different values; the first is row 4",
    ),
    Case(
        "repeated_row",
        "fioko_shnor",
        lambda l: l.shnor(rows=[*SHNOR, SHNOR[1]]),
        f"{SHNOR_AT}, row 5: repeats row 4 word for word (kept; count it once)",
    ),
    Case(
        "duplicate_column",
        "fioko_shnor",
        lambda l: l.shnor(rows=[[*r, r[-1]] for r in SHNOR]),
        "fioko/shnor_2023.xlsx: column «Уровень результатов» appears twice in the header row 3",
    ),
    Case(
        "unreadable",
        "fioko_shnor",
        lambda l: _write_bytes(l.root / "fioko" / "shnor_2023.xlsx", b"PK\x03\x04 not a zip"),
        "fioko/shnor_2023.xlsx: is truncated or damaged (an incomplete download or copy?): download or save it again",
    ),
    Case(
        "risk_level",
        "fioko_risk_profiles",
        lambda l: l.risk_profiles(rows=set_cell(RISK, 1, "Уровень риска", "очень высокий")),
        "fioko/risk_profiles_2023.xlsx, sheet «Рисковые профили», row 5, column «Уровень риска»: "
        "value «очень высокий» is not one of: высокий, средний, низкий, отсутствует",
    ),
    Case(
        "within_students_total",
        "social_passport",
        lambda l: l.passport(rows=set_cell(PASSPORT, 0, "ОВЗ", 250)),
        f"{PASSPORT_AT}, row 4, column «ОВЗ»: value 250 exceeds «Всего обучающихся» 200",
    ),
    Case(
        "within_teachers_total",
        "social_passport",
        lambda l: l.passport(rows=set_cell(PASSPORT, 1, "С первой и высшей категорией", 15)),
        f"{PASSPORT_AT}, row 5, column «С первой и высшей категорией»: value 15 exceeds «Педагогов всего» 11",
    ),
    Case(
        "weekly_load",
        "social_passport",
        lambda l: l.passport(rows=set_cell(PASSPORT, 0, "Средняя недельная нагрузка", 75)),
        f"{PASSPORT_AT}, row 4, column «Средняя недельная нагрузка»: value 75 is not a weekly load in hours",
    ),
    Case(
        "share_matches_count",
        "social_passport",
        lambda l: l.passport(rows=set_cell(PASSPORT, 0, "Малоимущие семьи, %", 35)),
        f"{PASSPORT_AT}, row 4, column «Малоимущие семьи, %»: value 35 % does not match 56 / 200 = 28 % "
        "(it implies 160 students)",
    ),
    Case(
        "missing_column",
        "social_passport",
        lambda l: l.passport(rows=[r[:2] + r[3:] for r in PASSPORT]),
        "social_passport/social_passport_2023.xlsx: the header row 3 has no column «Всего обучающихся»",
    ),
    Case(
        "marker",
        "fioko_objectivity_markers",
        lambda l: l.markers(rows=set_cell(MARKERS, 1, "4 РУ", 2)),
        f"{MARKERS_AT}, row 3, column «4 РУ»: value 2 is not a marker (1, 0 or empty)",
    ),
    Case(
        "marker_count",
        "fioko_objectivity_markers",
        lambda l: l.markers(rows=set_cell(MARKERS, 0, "Количество маркеров", 3)),
        f"{MARKERS_AT}, row 2, column «Количество маркеров»: value 3 differs from the sum of the marker columns, 2",
    ),
    Case(
        "no_marker_columns",
        "fioko_objectivity_markers",
        lambda l: l.markers(rows=[r[:4] + r[8:] for r in MARKERS]),
        "fioko/objectivity_markers_2023.xlsx: the header row 1 has no marker column such as «4 РУ»",
    ),
]
COVERED_ELSEWHERE = {
    "unknown_header": "test_bad_inputs.py::test_a_misspelt_optional_header_is_reported_not_loaded_as_an_empty_column",
    "contradicts_file": "test_bad_inputs.py::test_a_second_markers_file_contradicting_the_first_is_rejected",
    "empties_source": "test_bad_inputs.py::test_a_header_only_version_does_not_wipe_the_rows_of_a_good_one",
    "loaded_elsewhere": "test_load.py::test_a_participant_loaded_from_another_file_is_not_loaded_twice",
    "column_type": "test_parquet.py::test_parquet_with_wrong_column_types_is_quarantined",
    "task_lists": "test_parquet.py::test_parquet_rules_are_checked_in_sql",
    # РЦОИ lists and the crosswalk: tests/ingest/test_gia_lists.py
    "gia_exam_type": "test_gia_lists.py::test_a_list_whose_exam_type_cannot_be_told_is_reported",
    "gia_title": "test_gia_lists.py::test_a_list_without_a_title_is_reported",
    "participant_key": "test_gia_lists.py::test_without_a_key_a_list_with_documents_is_refused_and_says_how_to_set_one",
    "no_document": "test_gia_lists.py::test_a_list_without_documents_is_refused",
    "gia_minimum": "test_gia_lists.py::test_a_minimum_disagreeing_with_the_seed_is_a_warning",
    "gia_participants_total": "test_gia_lists.py::test_the_real_lists_load_with_a_crosswalk_and_the_appeal_updates_its_score",  # noqa: E501
    "school_code_format": "test_gia_lists.py::test_a_school_code_that_is_not_a_code_is_reported",
    "code_mapped_twice": "test_gia_lists.py::test_a_code_mapped_to_two_logins_is_reported",
}


def _write_bytes(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_every_rule_has_a_case():
    assert {case.rule for case in CASES} | set(COVERED_ELSEWHERE) == set(RULES)


@pytest.mark.parametrize("case", CASES, ids=[case.rule for case in CASES])
def test_rule_failure_reads_as_documented(empty_landing, con, case):
    if case.source != "schools":
        empty_landing.registry()
    broken = case.write(empty_landing).relative_to(empty_landing.root).as_posix()

    report = load_landing(empty_landing.root, con, sources={"schools", case.source})[case.source]

    messages = [issue.message for issue in report.issues if issue.rule == case.rule]
    assert any(m == case.message or (case.rule == "unreadable" and m.startswith(case.message)) for m in messages), (
        messages
    )
    [(rows_in_table,)] = con.execute(
        f"select count(*) from raw.{case.source} where _source_file = ?", [broken]
    ).fetchall()
    if RULES[case.rule].severity == WARNING:
        assert broken in report.files_loaded and rows_in_table > 0
    elif case.row_level:
        assert broken in report.files_loaded and report.rows_rejected == case.rejected
        assert rows_in_table == report.rows_written
    else:
        assert report.files_quarantined == [broken] and rows_in_table == 0


def test_quarantine_records_cell_value_rule_and_fingerprint(empty_landing, con):
    empty_landing.registry()
    empty_landing.vpr_form(rows=eight_participants())
    load_landing(empty_landing.root, con, sources={"schools", "vpr_results"})

    [issue] = con.execute(
        "select source, file, sheet, row_number, column_name, value, rule, severity, file_sha256 from ops.quarantine"
    ).fetchall()
    [(sha,)] = con.execute("select sha256 from ops.loaded_files where file = ?", [FORM_FILE]).fetchall()
    assert issue == ("vpr_results", FORM_FILE, "Протокол", 9, TASK_2, "4", "task_score", "error", sha)


def test_every_failing_cell_of_a_file_is_reported(empty_landing, con):
    rows = [with_cell(VPR_ROWS[0], JOURNAL, 7), with_cell(VPR_ROWS[1], JOURNAL, 1), with_cell(VPR_ROWS[2], SEX, "?")]
    empty_landing.registry()
    empty_landing.vpr_form(rows=rows)

    report = load_landing(empty_landing.root, con, sources={"schools", "vpr_results"})["vpr_results"]

    assert [(i.row, i.column, i.rule) for i in report.issues] == [
        (2, JOURNAL_HEADER, "journal_mark"),
        (3, JOURNAL_HEADER, "journal_mark"),
        (4, "Пол", "sex"),
    ]


def test_issues_are_recorded_up_to_a_cap_per_file_and_counted_in_full(empty_landing, con):
    from pipelines.ingest.validate import ISSUES_PER_FILE

    empty_landing.registry()
    empty_landing.vpr_form(rows=[pupil(60000 + n, 1, [1], journal=7) for n in range(ISSUES_PER_FILE + 50)])

    report = load_landing(empty_landing.root, con, sources={"schools", "vpr_results"})["vpr_results"]

    assert len(report.issues) == ISSUES_PER_FILE
    assert con.execute("select count(*) from ops.quarantine").fetchall() == [(ISSUES_PER_FILE,)]
    assert con.execute("select errors, status from ops.loaded_files where source = 'vpr_results'").fetchall() == [
        (ISSUES_PER_FILE + 50, "quarantined")
    ]
