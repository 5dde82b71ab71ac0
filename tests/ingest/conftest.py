"""A small landing folder written per test, exactly in the formats of docs/inputs.md, and ways to break it.

`Landing` writes each source's file from rows given as lists (header first); `landing` is a folder with a
good file of every source. Tests replace one file with a broken variant and load.
"""

import copy
import hashlib
import os
from pathlib import Path

import duckdb
import pytest
import xlsxwriter

from pipelines.ingest.works import work_spec

REPO_ROOT = Path(__file__).resolve().parents[2]
REAL_DIR = Path(os.environ.get("SHARED_REAL_DIR", REPO_ROOT.parent / "shared" / "real"))
REAL_MARKERS = REAL_DIR / "fioko_objectivity_markers_dagestan_2023_2025.xlsx"
needs_real = pytest.mark.skipif(
    not REAL_DIR.is_dir(),
    reason=f"the real files are not here ({REAL_DIR}); "
    "set SHARED_REAL_DIR to the folder of real inputs to run these tests",
)

REGISTRY = [
    [
        "Логин",
        "Полное наименование",
        "Краткое наименование",
        "Муниципалитет",
        "Тип населённого пункта",
        "Тип ОО",
        "Контингент",
        "Год открытия",
    ],
    [
        "sch860001",
        "МБОУ «Средняя общеобразовательная школа № 1»",
        "МБОУ «СОШ № 1»",
        "Лазовский муниципальный округ",
        "город",
        "СОШ",
        812,
        1968,
    ],
    [
        "sch860002",
        "МКОУ «Основная общеобразовательная школа с. Киевка»",
        "МКОУ «ООШ с. Киевка»",
        "Лазовский муниципальный округ",
        "село",
        "ООШ",
        120,
        1975,
    ],
    [
        "sch860003",
        "МБОУ «Гимназия № 3»",
        "МБОУ «Гимназия № 3»",
        "Лазовский муниципальный округ",
        "посёлок городского типа",
        "гимназия",
        540,
        1990,
    ],
]
VPR_YEAR, VPR_WORK = 2023, "MA5"
VPR_SPEC = work_spec(VPR_WORK, VPR_YEAR)
VPR_HEADER = [
    "Код",
    "Вариант",
    *(f"{label} ({maximum}б)" for label, maximum in zip(VPR_SPEC.task_labels, VPR_SPEC.task_max)),
    'Класс № (список формируется из листа "Классы")',
    "Пол",
    "Отметка за предыдущий триместр/ четверть/полугодие",
    "Итого баллов",
]
TASK_COLUMNS = len(VPR_SPEC.task_max)
FIRST_TASK = 2  # columns of VPR_HEADER
CLASS, SEX, JOURNAL, TOTAL = (FIRST_TASK + TASK_COLUMNS + offset for offset in range(4))


def with_cell(row: list, column: int, value) -> list:
    """A copy of a form row with one cell changed."""
    return [value if c == column else v for c, v in enumerate(row)]


def pupil(code, variant, scores, klass=1, sex="ж", journal=None, total=None) -> list:
    """A row of the A1 protocol form: the given first task scores, 0 for the others, the total as the form sums it."""
    scores = [*scores, *[0] * (TASK_COLUMNS - len(scores))]
    summed = sum(s for s in scores if isinstance(s, int))
    return [code, variant, *scores, klass, sex, journal, summed if total is None else total]


def absent_pupil(code) -> list:
    return [code, "отсутствовал", *[None] * TASK_COLUMNS, None, None, None, 0]


def report_row(code, scores, mark, journal=None, login="sch860001", klass="5А") -> list:
    """A pupil of the report «Ф1 Индивидуальные результаты» (A5): school columns, tasks, total, mark, journal."""
    scores = [*scores, *[0] * (TASK_COLUMNS - len(scores))]
    return [
        login,
        "Лазовский муниципальный округ",
        f"МБОУ «СОШ № 1»({login})",
        code,
        klass,
        1,
        *scores,
        sum(s for s in scores if isinstance(s, int)),
        mark,
        journal,
    ]


REPORT_HEADER = [
    "ОО",
    "Муниципалитет",
    "Название ОО",
    "Код участника",
    "Класс",
    "Вариант",
    *VPR_HEADER[2 : 2 + TASK_COLUMNS],
    "Первичный балл",
    "Отметка",
    "Отметка по журналу",
]
REPORT_ROWS = [report_row(40001, [1, 1, 1, 1, 1, 2, 1, 1], 3, 3), report_row(40002, [1, 0, 1], 2, 3)]
REPORT_MARK = len(REPORT_HEADER) - 2


VPR_ROWS = [  # the A1 protocol form of docs/inputs.md, header VPR_HEADER
    pupil(50001, 1, [1, 0, 1], 1, "ж", 4),
    pupil(50002, 2, ["X", 1, 1], 1, "м", None),
    pupil(50003, 1, [1, 1, None], 2, "ж", 3),
]
GIA_ROWS = [
    "Год;Тип экзамена;Код предмета;Предмет;Логин ОО;Код участника;Первичный балл;Тестовый балл;Отметка;"
    "Минимальный балл;Процент выполнения;Пересдача;Форма",
    "2023;ОГЭ;1;Русский язык;sch860001;P-8F3A21C0;27;;4;;81,8;0;экзамен",
    "2023;ЕГЭ;2;Математика (профильная);sch860001;P-1B77E902;11;68;;27;57,9;0;экзамен",
    "2023;ЕГЭ;22;Математика (базовая);sch860003;P-02CC1A9E;14;;4;3;66,7;0;экзамен",
    "2023;ОГЭ;2;Математика;sch860002;P-77A0B3F1;;;4;;;0;промежуточная аттестация",
]
SHNOR = [
    ["Год", "Логин", "Наименование ОО", "Муниципалитет", "Уровень результатов"],
    [2023, "sch860002", "МКОУ «ООШ с. Киевка»", "Лазовский муниципальный округ", "Умеренно неуспевающие"],
]
RISK = [
    ["Год", "Логин", "Наименование ОО", "Фактор риска", "Уровень риска"],
    [2023, "sch860002", "МКОУ «ООШ с. Киевка»", "Дефицит педагогических кадров", "высокий"],
    [2023, "sch860002", "МКОУ «ООШ с. Киевка»", "Низкий уровень оснащения школы", "отсутствует"],
]
PASSPORT = [
    [
        "Логин",
        "Наименование ОО",
        "Всего обучающихся",
        "ОВЗ",
        "Дети-инвалиды",
        "На внутришкольном учёте",
        "На учёте в ПДН, КДН и ЗП",
        "Из многодетных семей",
        "Из неполных семей",
        "Из неполных семей, %",
        "Оба родителя с высшим образованием",
        "Один родитель с высшим образованием",
        "Оба родителя безработные",
        "Русский язык не родной",
        "Подвоз",
        "Малоимущие семьи",
        "Малоимущие семьи, %",
        "Педагогов всего",
        "Вакансии",
        "С высшим педагогическим образованием",
        "С первой и высшей категорией",
        "Пенсионного возраста",
        "Прошли КПК за 3 года",
        "Средняя недельная нагрузка",
    ],
    # 42 / 200 = 21 %; 56 / 200 = 0,28 written as a fraction, as seed 001 mixes both
    [
        "sch860001",
        "МБОУ «СОШ № 1»",
        200,
        10,
        2,
        5,
        1,
        30,
        42,
        21,
        60,
        70,
        4,
        3,
        0,
        56,
        0.28,
        20,
        1,
        18,
        12,
        4,
        17,
        21.5,
    ],
    [
        "sch860002",
        "МКОУ «ООШ с. Киевка»",
        120,
        6,
        1,
        3,
        2,
        25,
        30,
        25,
        10,
        30,
        8,
        12,
        40,
        48,
        40,
        11,
        2,
        9,
        5,
        3,
        10,
        24,
    ],
]
MARKERS = [
    ["Год", "Логин", "Муниципалитет", "ОО", "4 РУ", "4 МА", "5 РУ", "5 МА", "Количество маркеров"],
    ["2023", "sch860001", "Лазовский муниципальный округ", 'МБОУ "СОШ № 1"', None, 1, 0, 1, 2],
    ["2023", "sch860003", "Лазовский муниципальный округ", 'МБОУ "Гимназия  № 3 "', 0, 0, 0, 1, 1],
]


MARK_STATISTICS = [  # «Статистика по отметкам» (B1) of MA5 2023 for the registry's schools: counts 2/3/4/5
    ["Группы участников", "Кол-во ОО", "Кол-во участников", 2, 3, 4, 5],
    ["Вся выборка", 35000, 1500000, 6.12, 35.4, 40.23, 18.25],
    ["Приморский край", 520, 21000, 8.1, 38.5, 38.4, 15.0],
    ["Лазовский муниципальный округ(reg25_m014)", 3, 40, 12.5, 37.5, 32.5, 17.5],
    ["МБОУ «СОШ № 1»(sch860001)", None, 20, 10.0, 40.0, 35.0, 15.0],  # 2, 8, 7, 3
    ["МКОУ «ООШ с. Киевка»(sch860002)", None, 8, 37.5, 50.0, 12.5, 0],  # 3, 4, 1, 0
    ["МБОУ «Гимназия № 3»(sch860003)", None, 12, 0, 25.0, 41.67, 33.33],  # 0, 3, 5, 4
]
JOURNAL_COMPARISON = [  # «Сравнение отметок с отметками по журналу» (B2), counts in the file
    [
        "Группы участников",
        "Кол-во участников(всего)",
        "Понизили (Отметка < Отметка по журналу) %",
        "Понизили (Отметка < Отметка по журналу) Кол-во участников",
        "Подтвердили (Отметка = Отметке по журналу) %",
        "Подтвердили (Отметка = Отметке по журналу) Кол-во участников",
        "Повысили (Отметка > Отметка по журналу) %",
        "Повысили (Отметка > Отметка по журналу) Кол-во участников",
    ],
    ["Приморский край", 21000, 30.0, 6300, 60.0, 12600, 10.0, 2100],
    ["Лазовский муниципальный округ(reg25_m014)", 40, 25.0, 10, 50.0, 20, 25.0, 10],
    ["МБОУ «СОШ № 1»(sch860001)", 20, 25.0, 5, 50.0, 10, 25.0, 5],
    ["МКОУ «ООШ с. Киевка»(sch860002)", 8, 0, 0, 50.0, 4, 50.0, 4],
]
FLAT_MARKS = [  # B3, marks
    ["Год", "Класс", "Предмет", "Муниципалитет", "Логин", "ОО", "Кол-во участников", "2", "3", "4", "5"],
    [2023, 5, "Математика", "Лазовский муниципальный округ", "sch860001", "МБОУ «СОШ № 1»", 20, 10, 40, 35, 15],
    [
        2023,
        5,
        "Русский язык",
        "Лазовский муниципальный округ",
        "sch860002",
        "МКОУ «ООШ с. Киевка»",
        8,
        37.5,
        50,
        12.5,
        0,
    ],
]


def report_title_block(
    report: str, title_year: int, subject: str = "Математика", grade: int = 5, max_score: int | None = None
) -> list[list]:
    """The title block of a ФИС ОКО report: name, «ВПР <год> <предмет> <N> класс», subject, maximum, date."""
    return [
        [report],
        [],
        [f"ВПР {title_year} {subject} {grade} класс"],
        ["Предмет:", subject],
        ["Максимальный первичный балл:", VPR_SPEC.max_primary_score if max_score is None else max_score],
        ["Дата:", f"20.04.{title_year}"],
        [],
    ]


def score_distribution(year=VPR_YEAR) -> list[list]:
    """«Распределение первичных баллов», hierarchical: one column per primary score 0…max."""
    top = VPR_SPEC.max_primary_score
    header = ["Группы участников", "Кол-во ОО", "Кол-во участников", *range(top + 1)]
    school = [0.0] * (top + 1)
    school[VPR_SPEC.cuts[0]], school[VPR_SPEC.cuts[0] - 1], school[VPR_SPEC.cuts[1]] = (
        50.0,
        25.0,
        25.0,
    )  # 10, 5, 5 of 20
    return [header, ["МБОУ «СОШ № 1»(sch860001)", None, 20, *school]]


def write_xlsx(path: Path, sheet: str, rows: list[list], *, merges: tuple = ()) -> Path:
    """Cells as given (None left empty); `merges` are (first_row, first_col, last_row, last_col, value)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook = xlsxwriter.Workbook(str(path))
    worksheet = workbook.add_worksheet(sheet)
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is not None:
                worksheet.write(r, c, value)
    for first_row, first_col, last_row, last_col, value in merges:
        worksheet.merge_range(first_row, first_col, last_row, last_col, value)
    workbook.close()
    return path


def titled(titles: list[str], table: list[list]) -> list[list]:
    """Title rows, an empty row, then the table (as the documented forms have it)."""
    return [[title] for title in titles] + [[]] + table


def set_cell(rows: list[list], row: int, header: str, value) -> list[list]:
    """A copy of `rows` with the cell of data row `row` (0 = first row after the header) under `header` set."""
    rows = copy.deepcopy(rows)
    rows[row + 1][rows[0].index(header)] = value
    return rows


class Landing:
    """Writes documented input files under `root`; every method returns the file's path."""

    def __init__(self, root: Path):
        self.root = root

    def registry(self, rows=REGISTRY) -> Path:
        return write_xlsx(
            self.root / "registry" / "schools.xlsx",
            "Реестр ОО",
            titled(["Реестр общеобразовательных организаций", "по состоянию на 01.09.2024"], rows),
        )

    def vpr_form(
        self, year=VPR_YEAR, login="sch860001", rows=VPR_ROWS, header=VPR_HEADER, name: str = "Математика 5 класс.xlsx"
    ) -> Path:
        """The ФИС ОКО protocol form (A1) of one school: `vpr/<YYYY>/<login>/<name>`, header in row 1."""
        path = self.root / "vpr" / str(year) / login / name
        return write_xlsx(path, "Протокол", [header, *rows])

    def report_f1(
        self,
        year=VPR_YEAR,
        rows=REPORT_ROWS,
        title_year: int | None = None,
        announced: int | None = None,
        name: str = "Индивидуальные результаты.xlsx",
    ) -> Path:
        """The ФИС ОКО report «Ф1 Индивидуальные результаты» (A5): title block, a group row per school."""
        difficulty = [None] * 6 + ["Б"] * TASK_COLUMNS
        table = [
            ["Индивидуальные результаты"],
            [],
            [f"ВПР {title_year or year} Математика 5 класс"],
            ["Предмет:", "Математика"],
            ["Максимальный первичный балл:", VPR_SPEC.max_primary_score],
            ["Дата:", f"20.04.{title_year or year}"],
            difficulty,
            REPORT_HEADER,
            [f"МБОУ «СОШ № 1»(sch860001) | Кол-во участников: {announced or len(rows)}"],
            *rows,
        ]
        return write_xlsx(self.root / "vpr" / str(year) / name, "МА 5 Индивидуальные результаты", table)

    def vpr_report(
        self,
        rows=MARK_STATISTICS,
        report="Статистика по отметкам",
        year=VPR_YEAR,
        title_year: int | None = None,
        max_score: int | None = None,
        sheet="МА 5 Статистика по отметкам",
        name="Статистика по отметкам.xlsx",
        subject="Математика",
    ) -> Path:
        """A ФИС ОКО report (B1, B2, score distribution): title block, header «Группы участников», group rows."""
        table = [*report_title_block(report, title_year or year, subject, 5, max_score), *rows]
        return write_xlsx(self.root / "vpr_reports" / str(year) / name, sheet, table)

    def flat_report(self, rows=FLAT_MARKS, name="vpr_marks_export.xlsx") -> Path:
        """A flattened dashboard export (B3): header in row 1, one row per school and work."""
        return write_xlsx(self.root / "vpr_reports" / name, "Sheet1", rows)

    def gia(self, year=2023, lines=GIA_ROWS, encoding="cp1251", name: str | None = None) -> Path:
        path = self.root / "gia" / (name or f"gia_{year}.csv")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes("\r\n".join(lines).encode(encoding) + b"\r\n")
        return path

    def shnor(self, year=2023, rows=SHNOR) -> Path:
        return write_xlsx(
            self.root / "fioko" / f"shnor_{year}.xlsx",
            "Перечень",
            titled([f"Перечень ОО с низкими образовательными результатами, {year}"], rows),
        )

    def risk_profiles(self, year=2023, rows=RISK) -> Path:
        return write_xlsx(
            self.root / "fioko" / f"risk_profiles_{year}.xlsx",
            "Рисковые профили",
            titled([f"Рисковые профили ОО (проект «500+»), {year}"], rows),
        )

    def passport(self, year=2023, rows=PASSPORT) -> Path:
        return write_xlsx(
            self.root / "social_passport" / f"social_passport_{year}.xlsx",
            "Социальный паспорт",
            titled([f"Социальный паспорт ОО, {year}"], rows),
        )

    def markers(self, rows=MARKERS, name="objectivity_markers_2023.xlsx") -> Path:
        return write_xlsx(self.root / "fioko" / name, "Признаки необъективности папка ", rows)

    def everything(self) -> "Landing":
        for write in (
            self.registry,
            self.vpr_form,
            self.gia,
            self.shnor,
            self.risk_profiles,
            self.passport,
            self.markers,
        ):
            write()
        return self


def sha256_of_tree(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def landing(tmp_path) -> Landing:
    """A landing folder with one good file of every source."""
    return Landing(tmp_path / "landing").everything()


@pytest.fixture
def empty_landing(tmp_path) -> Landing:
    return Landing(tmp_path / "landing")


@pytest.fixture
def con(tmp_path):
    connection = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    yield connection
    connection.close()
