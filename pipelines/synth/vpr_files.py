"""ВПР participant files in the layouts authorities really receive (FORMATS.md A1–A3 of the shared notes).

- A1, the ФИС ОКО protocol form a school fills in, one file per school × work:
  `vpr/<YYYY>/<login>/<Предмет> <N> класс.xlsx`, sheet `Протокол`, header in row 1, each task's maximum in
  its header (`1К1 (4б)`), a numeric participant code, the class as its ordinal number, sex `м`/`ж`. From
  2026 the form's own header (`Код участника`, `Порядковый номер класса`, no `Пол`) and its `Служебный`
  sheet of allowed values.
- A2, the region export of the uploaded protocols, one file per work with every school:
  `vpr/<YYYY>/<N>/<Предмет>.xlsx`, sheets `Классы` and `Протокол`; the A1 columns prefixed by the user,
  region, municipality, school and upload date; some schools' cells are text (`'1'` beside `1.0`).
- A3, the 2021 region export, one sheet, every cell text:
  `vpr/<YYYY>/Проведение работы по <предмету>, <N> класс. ВПР <YYYY>.xlsx`, with `логин школы`,
  `балл за N`, and the not-attempted mark written as `X`, `x`, `Х` or `не пройд.`.

Years up to 2021 are written as A3, 2022 as A2, 2023 on as A1. None of them carries the ВПР mark: the
pipeline computes it from the primary score through the year's scale.

A few pupils per school are absent (`Вариант` = `отсутствовал`, no scores). They are extra rows drawn
from their own random stream: the participants, their scores and everything derived from them (ground
truth, FIOKO lists) are those of the batch, with or without the absent rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipelines.synth.names import fioko_style_name
from pipelines.synth.randomness import stream
from pipelines.synth.schools import Schools
from pipelines.synth.scoring import NOT_ATTEMPTED
from pipelines.synth.vpr import CLASS_LETTERS, CLASS_SIZE, VprBatch
from pipelines.synth.writers import _workbook

ABSENT_SHARE = 0.04
LAST_A3_YEAR, A2_YEAR = 2021, 2022
FORM_2026_FROM = 2026
ABSENT = "отсутствовал"
NO_JOURNAL_MARK = "нет отметки"
BLANK_SKIPPED_SHARE = 0.2  # A1 forms where a task not attempted is left blank instead of 'X'
NO_JOURNAL_WORDS_SHARE = 0.5  # forms and schools writing «нет отметки» for a missing journal mark (else blank)
TEXT_CELLS_SHARE = 0.2  # A2: schools whose uploaded protocol stored numbers as text
UPPER_SEX_SHARE = 0.1  # A3: schools writing `М`/`Ж`
A3_SKIPPED = ("X", "x", "Х", "не пройд.")  # Latin X, Latin x, Cyrillic Х, «не пройден»
A3_SKIPPED_WEIGHTS = (0.7, 0.1, 0.08, 0.12)
TEMPLATE_ROWS = (2, 9)  # blank form rows after the filled ones, each with only its formula total (0)

A1_HEADER = (
    "Код",
    "Вариант",
    'Класс № (список формируется из листа "Классы")',
    "Пол",
    "Отметка за предыдущий триместр/ четверть/полугодие",
    "Итого баллов",
)
A1_HEADER_2026 = (
    "Код участника",
    "Вариант",
    "Порядковый номер класса",
    "Отметка за предыдущий триместр/ четверть/полугодие",
    "Итого баллов",
)
A2_PREFIX = ("Пользователь", "Код региона", "Регион", "Муниципалитет", "Школа", "Дата загрузки")
A2_CLASSES_HEADER = (
    *A2_PREFIX,
    'Буква (цифра) класса. Введите "нет" - если отсутствует',
    "Основной учебник по предмету",
    "Другое (автор учебника)",
    "Другое (название учебника)",
)
A2_TAIL = ("Наименование класса", "Пол", "Отметка за предыдущий триместр/ четверть/полугодие", "Итого баллов")
A3_HEAD = (
    "логин школы",
    "регион",
    "номер обучающегося",
    "код обучающегося",
    "отметка за предыдущую четверть/триместр",
    "пол",
    "класс",
    "вариант",
    "всего баллов",
)
A3_TAIL = ("Учебник", "Др.уч. автор", "Др.уч. название")

REGION_NAMES = {86: "Ханты-Мансийский автономный округ - Югра"}
SUBJECT_DATIVE = {
    "Русский язык": "русскому языку",
    "Математика": "математике",
    "Окружающий мир": "окружающему миру",
    "История": "истории",
    "Обществознание": "обществознанию",
    "География": "географии",
    "Биология": "биологии",
    "Физика": "физике",
    "Химия": "химии",
    "Английский язык": "английскому языку",
    "Немецкий язык": "немецкому языку",
    "Французский язык": "французскому языку",
}
TEXTBOOKS = {  # (subject code, primary school?) → textbooks as ФИС ОКО lists them
    ("RU", True): (
        'Канакина В.П., Горецкий В.Г. Русский язык {g} класс АО "Издательство "Просвещение"',
        'Иванов С.В., Евдокимова А.О., Кузнецова М.И. Русский язык {g} класс ООО "Издательский центр ВЕНТАНА-ГРАФ"',
    ),
    ("RU", False): (
        "Ладыженская Т.А., Баранов М.Т., Тростенцова Л.А. и др. Русский язык (в 2 частях) {g} класс "
        'АО "Издательство "Просвещение"',
        'Разумовская М.М., Львова С.И., Капинос В.И. и др. Русский язык {g} класс ООО "ДРОФА"',
    ),
    ("MA", True): (
        "Моро М.И., Бантова М.А., Бельтюкова Г.В. и др. Математика (в 2 частях) {g} класс "
        'АО "Издательство "Просвещение"',
        'Дорофеев Г.В., Миракова Т.Н., Бука Т.Б. Математика {g} класс АО "Издательство "Просвещение"',
    ),
    ("MA", False): (
        'Мерзляк А.Г., Полонский В.Б., Якир М.С. Математика {g} класс ООО "Издательский центр ВЕНТАНА-ГРАФ"',
        'Виленкин Н.Я., Жохов В.И., Чесноков А.С. и др. Математика {g} класс ООО "ИОЦ МНЕМОЗИНА"',
    ),
}


def layout_for(year: int) -> str:
    """The layout a municipality or region receives its ВПР participant rows in, by year."""
    return "A3" if year <= LAST_A3_YEAR else "A2" if year == A2_YEAR else "A1"


def a1_path(landing: Path, year: int, login: str, subject: str, grade: int) -> Path:
    return landing / "vpr" / str(year) / login / f"{subject} {grade} класс.xlsx"


def a2_path(landing: Path, year: int, subject: str, grade: int) -> Path:
    return landing / "vpr" / str(year) / str(grade) / f"{subject}.xlsx"


def a3_path(landing: Path, year: int, subject: str, grade: int) -> Path:
    try:
        dative = SUBJECT_DATIVE[subject]
    except KeyError:
        raise ValueError(f"no dative form of the subject {subject!r} for the A3 file name") from None
    return landing / "vpr" / str(year) / f"Проведение работы по {dative}, {grade} класс. ВПР {year}.xlsx"


def task_labels(batch: VprBatch) -> list[str]:
    """Task headers with their maxima, as the protocol form writes them: `1К1 (4б)`, `5.1 (1б)`."""
    return [f"{number} ({maximum}б)" for number, maximum in zip(batch.work.task_numbers, batch.work.task_max.tolist())]


@dataclass
class Roster:
    """Every row of one work's files, absent pupils included, ordered by school then by number."""

    school: np.ndarray  # school position of each row
    offsets: np.ndarray  # rows of school s are offsets[s]:offsets[s + 1]
    source: np.ndarray  # the participant's row in the batch, -1 for an absent pupil
    number: np.ndarray  # 1… within the school

    @property
    def absent(self) -> np.ndarray:
        return self.source < 0

    def codes(self, grade: int) -> np.ndarray:
        """Numeric participant codes like the real forms': grade·10000 + number (50001, 50002, …)."""
        return grade * 10000 + self.number


def roster(batch: VprBatch, seed: int) -> Roster:
    """The batch's participants in their order, with absent pupils inserted at random places."""
    participants = batch.participants()
    rng = stream(seed, "vpr-absent", batch.year, batch.work.code)
    n_schools = len(participants)
    absent = rng.binomial(participants, ABSENT_SHARE)
    absent_school = np.repeat(np.arange(n_schools), absent)
    present_key = (np.arange(len(batch)) - batch.offsets[batch.school]).astype(float)
    absent_key = rng.uniform(-0.5, np.maximum(participants[absent_school], 1) - 0.5)
    school = np.concatenate([batch.school, absent_school])
    key = np.concatenate([present_key, absent_key])
    source = np.concatenate([np.arange(len(batch)), np.full(len(absent_school), -1)])
    order = np.lexsort((key, school))
    counts = participants + absent
    offsets = np.concatenate([[0], np.cumsum(counts)])
    school = school[order]
    return Roster(
        school=school,
        offsets=offsets,
        source=source[order],
        number=(np.arange(len(order)) - offsets[school] + 1).astype(np.int64),
    )


@dataclass
class Styles:
    """How each school writes its form: per-school choices drawn once per year and work."""

    blank_skipped: np.ndarray  # A1: not attempted left blank instead of 'X'
    journal_words: np.ndarray  # a missing journal mark written «нет отметки» (else blank)
    template_rows: np.ndarray  # A1: blank rows after the filled ones
    text_cells: np.ndarray  # A2: numbers stored as text
    class_style: np.ndarray  # 0…4, see class_label
    upload_seconds: np.ndarray  # A2: upload time after 1 March, 00:00
    textbook: np.ndarray  # 0 or 1
    upper_sex: np.ndarray  # A3
    skipped: np.ndarray  # A3: index into A3_SKIPPED


def styles(batch: VprBatch, seed: int) -> Styles:
    n = len(batch.offsets) - 1
    rng = stream(seed, "vpr-file-style", batch.year, batch.work.code)
    return Styles(
        blank_skipped=rng.random(n) < BLANK_SKIPPED_SHARE,
        journal_words=rng.random(n) < NO_JOURNAL_WORDS_SHARE,
        template_rows=rng.integers(*TEMPLATE_ROWS, n),
        text_cells=rng.random(n) < TEXT_CELLS_SHARE,
        class_style=rng.integers(0, 5, n),
        upload_seconds=rng.integers(0, 40 * 86400, n),
        textbook=rng.integers(0, 2, n),
        upper_sex=rng.random(n) < UPPER_SEX_SHARE,
        skipped=rng.choice(len(A3_SKIPPED), size=n, p=A3_SKIPPED_WEIGHTS),
    )


def class_label(style: int, grade: int, class_index: int, classes: int, layout: str):
    """The class as a school types it: A2 `нет`, `5`, `5А`, `5а`, `А`; A3 `нет`, `НЕТ`, `а`, `А`.

    `нет` and the bare grade only where the school has one class of the grade, so classes stay apart.
    """
    letter = CLASS_LETTERS[class_index]
    if classes == 1 and style <= 1:
        if layout == "A3":
            return "нет" if style == 0 else "НЕТ"
        return "нет" if style == 0 else float(grade)
    if layout == "A3":
        return letter.lower() if style % 2 else letter
    return (f"{grade}{letter}", f"{grade}{letter.lower()}", letter, f"{grade}{letter}")[style % 4]


def _participant_arrays(batch: VprBatch, rows: Roster, start: int, stop: int) -> dict:
    """Plain arrays of rows start:stop of the roster (cheap to send to a worker process)."""
    source = rows.source[start:stop]
    present = np.maximum(source, 0)
    return {
        "absent": rows.absent[start:stop],
        "number": rows.number[start:stop],
        "code": rows.codes(batch.work.grade)[start:stop],
        "school": rows.school[start:stop],
        "variant": batch.variant[present],
        "scores": batch.scores[present],
        "primary": batch.primary[present],
        "journal": batch.journal[present],
        "female": batch.female[present],
        "class_index": batch.class_index[present],
    }


def _work_fields(batch: VprBatch) -> dict:
    work = batch.work
    return {
        "year": batch.year,
        "grade": work.grade,
        "subject": work.subject_name,
        "subject_code": work.subject_code,
        "tasks": task_labels(batch),
        "task_max": work.task_max.tolist(),
    }


def a1_payloads(batch: VprBatch, schools: Schools, seed: int) -> list[dict]:
    """One A1 payload per school with participants."""
    rows, style = roster(batch, seed), styles(batch, seed)
    logins = schools.login
    fields = _work_fields(batch)
    return [
        {
            **fields,
            "login": logins[s],
            "rows": _participant_arrays(batch, rows, rows.offsets[s], rows.offsets[s + 1]),
            "skipped": None if style.blank_skipped[s] else "X",
            "no_journal": NO_JOURNAL_MARK if style.journal_words[s] else None,
            "template_rows": int(style.template_rows[s]),
        }
        for s in np.flatnonzero(batch.participants())
    ]


def region_name(code: int) -> str:
    return REGION_NAMES.get(code, f"Регион {code:02d}")


def municipality_codes(schools: Schools) -> list[str]:
    """Each school's municipality as ФИС ОКО codes it, `reg86_m001`: numbered within the region in registry order."""
    registry = schools.registry
    number, counters = {}, {}
    for code, name in dict.fromkeys(zip(registry["region_code"], registry["municipality"])):
        counters[code] = counters.get(code, 0) + 1
        number[(code, name)] = counters[code]
    return [f"reg{c:02d}_m{number[(c, m)]:03d}" for c, m in zip(registry["region_code"], registry["municipality"])]


def region_payload(batch: VprBatch, schools: Schools, seed: int) -> dict:
    """The A2 or A3 payload of one work: every school's rows and the school fields the export shows."""
    rows, style = roster(batch, seed), styles(batch, seed)
    registry = schools.registry
    classes = np.minimum(np.ceil(batch.participants() / CLASS_SIZE), len(CLASS_LETTERS)).astype(int)
    return {
        **_work_fields(batch),
        "layout": layout_for(batch.year),
        "rows": _participant_arrays(batch, rows, 0, len(rows.school)),
        "login": schools.login.tolist(),
        "municipality": registry["municipality"].tolist(),
        "municipality_label": [
            f"{code} | {name}" for code, name in zip(municipality_codes(schools), registry["municipality"])
        ],
        "region_code": registry["region_code"].astype(int).tolist(),
        "school_label": [
            f"{login} | {fioko_style_name(name)}" for login, name in zip(schools.login, registry["short_name"])
        ],
        "classes": classes.tolist(),
        "style": style,
    }


def write_a1(landing: Path, form: dict) -> None:
    """vpr/<YYYY>/<login>/<Предмет> <N> класс.xlsx: the protocol form of one school and work."""
    year, tasks = form["year"], form["tasks"]
    is_2026 = year >= FORM_2026_FROM
    path = a1_path(landing, year, form["login"], form["subject"], form["grade"])
    workbook = _workbook(path)
    sheet = workbook.add_worksheet("Протокол")
    if is_2026:
        header = [A1_HEADER_2026[0], A1_HEADER_2026[1], *tasks, *A1_HEADER_2026[2:]]
    else:
        header = [A1_HEADER[0], A1_HEADER[1], *tasks, *A1_HEADER[2:]]
    sheet.write_row(0, 0, header)
    total_column = len(header) - 1
    skipped, no_journal = form["skipped"], form["no_journal"]
    r = form["rows"]
    row = 0
    for absent, code, variant, scores, primary, journal, female, class_index in zip(
        r["absent"].tolist(),
        r["code"].tolist(),
        r["variant"].tolist(),
        r["scores"].tolist(),
        r["primary"].tolist(),
        r["journal"].tolist(),
        r["female"].tolist(),
        r["class_index"].tolist(),
    ):
        row += 1
        if absent:
            sheet.write_number(row, 0, code)
            sheet.write_string(row, 1, ABSENT)
            sheet.write_number(row, total_column, 0)
            continue
        cells = [code, variant, *(skipped if s == NOT_ATTEMPTED else s for s in scores), class_index + 1]
        if not is_2026:
            cells.append("ж" if female else "м")
        cells += [journal or no_journal, primary]
        sheet.write_row(row, 0, cells)
    for _ in range(form["template_rows"]):
        row += 1
        sheet.write_number(row, total_column, 0)
    if is_2026:
        _write_service_sheets(workbook, form["task_max"])
    workbook.close()


def _write_service_sheets(workbook, task_max: list[int]) -> None:
    """The 2026 form's lists of allowed values: variants, each task's scores and `X`, journal marks."""
    service = workbook.add_worksheet("Служебный")
    service.write_column(0, 0, [1, 2, ABSENT])
    for column, maximum in enumerate(task_max, start=1):
        service.write_column(0, column, [*range(maximum, -1, -1), "X"])
    service.write_column(0, len(task_max) + 1, [5, 4, 3, 2, NO_JOURNAL_MARK])
    classes = workbook.add_worksheet("Порядковый номер класса")
    classes.write_column(0, 0, list(range(1, 51)))


def write_a1_forms(landing: Path, forms: list[dict]) -> None:
    for form in forms:
        write_a1(landing, form)


def _upload_date(year: int, seconds: int) -> str:
    return (dt.datetime(year, 3, 1) + dt.timedelta(seconds=seconds)).strftime("%d.%m.%Y %H:%M:%S")


def _textbook(payload: dict, choice: int) -> str:
    grade = payload["grade"]
    books = TEXTBOOKS.get((payload["subject_code"], grade == 4))
    if books is None:
        return f"{payload['subject']} {grade} класс"
    return books[choice].format(g=grade)


def _listed_textbook(payload: dict, choice: int) -> str:
    """The A2 `Классы` sheet's form: `ma5.1 | <textbook>`."""
    return f"{payload['subject_code'].lower()}{payload['grade']}.{choice + 1} | {_textbook(payload, choice)}"


def write_region_file(landing: Path, payload: dict) -> None:
    (write_a2 if payload["layout"] == "A2" else write_a3)(landing, payload)


def write_a2(landing: Path, p: dict) -> None:
    """vpr/<YYYY>/<N>/<Предмет>.xlsx: the region export of the uploaded protocols of one work."""
    year, grade, style, r = p["year"], p["grade"], p["style"], p["rows"]
    schools = r["school"].tolist()
    workbook = _workbook(a2_path(landing, year, p["subject"], grade))

    def prefix(s: int) -> list:
        code = p["region_code"][s]
        return [
            p["login"][s],
            float(code),
            f"reg{code:02d}0000 | {region_name(code)}",
            p["municipality_label"][s],
            p["school_label"][s],
            _upload_date(year, int(style.upload_seconds[s])),
        ]

    def label(s: int, class_index: int):
        value = class_label(int(style.class_style[s]), grade, class_index, p["classes"][s], "A2")
        return str(int(value)) if isinstance(value, float) and style.text_cells[s] else value

    classes_sheet = workbook.add_worksheet("Классы")
    classes_sheet.write_row(0, 0, A2_CLASSES_HEADER)
    used = dict.fromkeys((s, c) for s, c, a in zip(schools, r["class_index"].tolist(), r["absent"].tolist()) if not a)
    for row, (s, c) in enumerate(used, start=1):
        classes_sheet.write_row(row, 0, [*prefix(s), label(s, c), _listed_textbook(p, int(style.textbook[s])), "", ""])

    sheet = workbook.add_worksheet("Протокол")
    header = [*A2_PREFIX, "Код", "Вариант", *p["tasks"], *A2_TAIL]
    sheet.write_row(0, 0, header)
    n_tasks = len(p["tasks"])
    current, school_prefix = -1, []
    for row, (s, absent, code, variant, scores, primary, journal, female, class_index) in enumerate(
        zip(
            schools,
            r["absent"].tolist(),
            r["code"].tolist(),
            r["variant"].tolist(),
            r["scores"].tolist(),
            r["primary"].tolist(),
            r["journal"].tolist(),
            r["female"].tolist(),
            r["class_index"].tolist(),
        ),
        start=1,
    ):
        if s != current:
            current, school_prefix = s, prefix(s)
            text = bool(style.text_cells[s])
            missing_journal = NO_JOURNAL_MARK if style.journal_words[s] else None
        if absent:
            sheet.write_row(row, 0, [*school_prefix, float(code), ABSENT, *[None] * (n_tasks + 3), 0.0])
            continue
        cells = ["X" if v == NOT_ATTEMPTED else (str(v) if text else float(v)) for v in scores]
        mark = (str(journal) if text else float(journal)) if journal else missing_journal
        sheet.write_row(
            row,
            0,
            [
                *school_prefix,
                float(code),
                str(variant) if text else float(variant),
                *cells,
                label(s, class_index),
                "ж" if female else "м",
                mark,
                float(primary),
            ],
        )
    workbook.close()


def write_a3(landing: Path, p: dict) -> None:
    """vpr/<YYYY>/Проведение работы по <предмету>, <N> класс. ВПР <YYYY>.xlsx: one sheet, every cell text."""
    year, grade, style, r = p["year"], p["grade"], p["style"], p["rows"]
    schools = r["school"].tolist()
    workbook = _workbook(a3_path(landing, year, p["subject"], grade))
    sheet = workbook.add_worksheet("Sheet")
    n_tasks = len(p["tasks"])
    sheet.write_row(0, 0, [*A3_HEAD, *(f"балл за {i}" for i in range(1, n_tasks + 1)), *A3_TAIL])
    current = -1
    for row, (s, absent, number, code, variant, scores, primary, journal, female, class_index) in enumerate(
        zip(
            schools,
            r["absent"].tolist(),
            r["number"].tolist(),
            r["code"].tolist(),
            r["variant"].tolist(),
            r["scores"].tolist(),
            r["primary"].tolist(),
            r["journal"].tolist(),
            r["female"].tolist(),
            r["class_index"].tolist(),
        ),
        start=1,
    ):
        if s != current:
            current = s
            head = [p["login"][s], p["municipality"][s]]
            skipped = A3_SKIPPED[int(style.skipped[s])]
            sexes = ("Ж", "М") if style.upper_sex[s] else ("ж", "м")
            missing_journal = NO_JOURNAL_MARK if style.journal_words[s] else ""
            textbook = _textbook(p, int(style.textbook[s]))
            class_style = int(style.class_style[s])
        if absent:
            sheet.write_row(row, 0, [*head, str(number), str(code), "", "", "", ABSENT])
            continue
        cells = [skipped if v == NOT_ATTEMPTED else str(v) for v in scores]
        sheet.write_row(
            row,
            0,
            [
                *head,
                str(number),
                str(code),
                str(journal) if journal else missing_journal,
                sexes[0 if female else 1],
                class_label(class_style, grade, class_index, p["classes"][s], "A3"),
                str(variant),
                str(primary),
                *cells,
                textbook,
                "",
                "",
            ],
        )
    workbook.close()
