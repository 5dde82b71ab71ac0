"""File writers for the inputs other than the ВПР participant files (vpr_files.py), byte-for-byte reproducible.

xlsx files carry a fixed creation date (XlsxWriter also uses it for the zip entries), no styling and no
column widths, so the committed sample stays small and identical across runs. The ГИА CSV is written as a
Windows export: cp1251, `;`, decimal commas, CRLF line ends.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import xlsxwriter

from pipelines.synth.gia import GiaRows
from pipelines.synth.scoring import NOT_ATTEMPTED
from pipelines.synth.vpr import CLASS_LETTERS, VprBatch

CREATED = dt.datetime(2024, 1, 1)
CONSTANT_MEMORY_ROWS = 5000
GIA_HEADER = (
    "Год;Тип экзамена;Код предмета;Предмет;Логин ОО;Код участника;Первичный балл;Тестовый балл;"
    "Отметка;Минимальный балл;Процент выполнения;Пересдача;Форма"
)
FORM_EXAM, FORM_SCHOOL_MARKS = "экзамен", "промежуточная аттестация"
MARKERS_SHEET = "Признаки необъективности папка "  # as in the published file, trailing space included
MARKERS_TABLE = "Признаки_необъективности_папка_для_сборной_таблицы__2"


def _workbook(path: Path, rows: int = 0) -> xlsxwriter.Workbook:
    path.parent.mkdir(parents=True, exist_ok=True)
    options = {"constant_memory": True} if rows > CONSTANT_MEMORY_ROWS else {"in_memory": True}
    workbook = xlsxwriter.Workbook(str(path), options)
    workbook.set_properties({"created": CREATED})
    return workbook


def write_titled_table(
    path: Path, sheet: str, titles: Sequence[str], header: Sequence[str], rows: Iterable[Sequence], row_count: int = 0
) -> None:
    """A sheet with title rows, an empty row, then the table (None cells stay empty)."""
    workbook = _workbook(path, row_count)
    worksheet = workbook.add_worksheet(sheet)
    for r, title in enumerate(titles):
        worksheet.write_string(r, 0, title)
    first = len(titles) + 1
    worksheet.write_row(first, 0, header)
    for r, row in enumerate(rows, start=first + 1):
        worksheet.write_row(r, 0, row)
    workbook.close()


def write_objectivity_markers(path: Path, header: Sequence[str], rows: list[list]) -> None:
    """The FIOKO form exactly as published: header in the first row, an Excel table, `Год` as text."""
    workbook = _workbook(path)
    worksheet = workbook.add_worksheet(MARKERS_SHEET)
    worksheet.write_row(0, 0, header)
    for r, row in enumerate(rows, start=1):
        worksheet.write_row(r, 0, row)
    worksheet.add_table(
        0,
        0,
        max(len(rows), 1),
        len(header) - 1,
        {"name": MARKERS_TABLE, "columns": [{"header": h} for h in header], "autofilter": False},
    )
    workbook.close()


def _strings(values: np.ndarray, dictionary: Sequence[str]) -> pa.Array:
    return pa.DictionaryArray.from_arrays(pa.array(values, type=pa.int32()), pa.array(dictionary)).cast(pa.string())


def _constant(value: str, n: int) -> pa.Array:
    return _strings(np.zeros(n, dtype=np.int32), [value])


INT32 = pa.int32()


def _nullable(values: np.ndarray, missing: np.ndarray, type_: pa.DataType = INT32) -> pa.Array:
    return pa.array(values.astype(np.int64), mask=missing, type=type_)


def _decimal_comma(tenths: np.ndarray) -> pa.Array:
    whole = pa.array(tenths // 10).cast(pa.string())
    fraction = pa.array(tenths % 10).cast(pa.string())
    joined = pc.binary_join_element_wise(whole, fraction, ",")
    return pc.if_else(pa.array(tenths < 0), pa.scalar(None, pa.string()), joined)


def gia_table(rows: GiaRows, logins: np.ndarray) -> pa.Table:
    n = len(rows)
    exam = rows.exam
    return pa.table(
        {
            "year": pa.array(np.full(n, rows.year, dtype=np.int32)),
            "exam_type": _constant(exam.exam_type, n),
            "subject_code": pa.array(np.full(n, exam.subject_code, dtype=np.int32)),
            "subject_name": _constant(exam.subject_name, n),
            "login": _strings(rows.school, logins.tolist()),
            "participant_code": pa.array(rows.codes).cast(pa.string()),
            "primary_score": _nullable(rows.primary, rows.primary < 0),
            "test_score": _nullable(rows.test, rows.test < 0),
            "mark": _nullable(rows.mark, rows.mark == 0),
            "min_score": pa.array(
                np.full(n, rows.min_score or 0, dtype=np.int32), mask=np.full(n, rows.min_score is None)
            ),
            "percent_complete": _decimal_comma(rows.percent_tenths),
            "is_retake": pa.array(rows.retake.astype(np.int32)),
            "form": _constant(FORM_SCHOOL_MARKS if rows.school_marks else FORM_EXAM, n),
        }
    )


def write_gia_csv(path: Path, chunks: list[GiaRows], logins: np.ndarray) -> None:
    """gia/gia_<year>.csv as РЦОИ exports it from Windows: cp1251, `;`, decimal commas, CRLF."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # No value contains ';', quotes or line breaks, so nothing is quoted (Arrow would quote every string).
    options = pacsv.WriteOptions(include_header=False, delimiter=";", eol="\r\n", quoting_style="none")
    with open(path, "wb") as handle:
        handle.write((GIA_HEADER + "\r\n").encode("cp1251"))
        for rows in chunks:
            if len(rows):
                sink = pa.BufferOutputStream()
                pacsv.write_csv(gia_table(rows, logins), sink, options)
                handle.write(sink.getvalue().to_pybytes().decode("utf-8").encode("cp1251"))


VPR_SCHEMA = pa.schema(
    [
        ("year", pa.int32()),
        ("login", pa.string()),
        ("work_code", pa.string()),
        ("subject_code", pa.string()),
        ("grade", pa.int32()),
        ("participant_code", pa.string()),
        ("class_letter", pa.string()),
        ("variant", pa.int32()),
        ("sex", pa.string()),
        ("task_scores", pa.list_(pa.int16())),
        ("task_max", pa.list_(pa.int16())),
        ("primary_score", pa.int32()),
        ("mark", pa.int32()),
        ("journal_mark", pa.int32()),
    ]
)


def vpr_table(batch: VprBatch, logins: np.ndarray) -> pa.Table:
    n, tasks = batch.scores.shape
    work = batch.work
    list_offsets = pa.array(np.arange(0, n * tasks + 1, tasks, dtype=np.int32))
    flat = batch.scores.ravel()
    return pa.Table.from_arrays(
        [
            pa.array(np.full(n, batch.year, dtype=np.int32)),
            _strings(batch.school, logins.tolist()),
            _constant(work.code, n),
            _constant(work.subject_code, n),
            pa.array(np.full(n, work.grade, dtype=np.int32)),
            pa.array(batch.codes).cast(pa.string()),
            _strings(batch.class_index.astype(np.int32), [f"{work.grade}{letter}" for letter in CLASS_LETTERS]),
            pa.array(batch.variant.astype(np.int32)),
            _strings(batch.female.astype(np.int32), ["М", "Ж"]),
            pa.ListArray.from_arrays(list_offsets, pa.array(flat.astype(np.int16), mask=flat == NOT_ATTEMPTED)),
            pa.ListArray.from_arrays(list_offsets, pa.array(np.tile(work.task_max, n))),
            pa.array(batch.primary.astype(np.int32)),
            pa.array(batch.mark.astype(np.int32)),
            _nullable(batch.journal, batch.journal == 0),
        ],
        schema=VPR_SCHEMA,
    )


class VprParquet:
    """vpr/vpr_<year>.parquet, written one work at a time so a federal year never sits in memory whole."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.writer = pq.ParquetWriter(str(path), VPR_SCHEMA, compression="zstd")

    def write(self, batch: VprBatch, logins: np.ndarray) -> None:
        self.writer.write_table(vpr_table(batch, logins), row_group_size=1_000_000)

    def close(self) -> None:
        self.writer.close()


# --------------------------------------------------------------------------------------------------
# ГИА as РЦОИ result lists («ведомости»): one file per exam and day, with dummy names and documents

GIA_LIST_DAYS = {  # (month, day) of the main day; a retake list is written 20 days later
    "ЕГЭ RU": (5, 29),
    "ЕГЭ MA_PROF": (6, 1),
    "ЕГЭ MA_BASE": (6, 1),
    "ОГЭ RU": (6, 6),
    "ОГЭ MA": (6, 9),
    "ГВЭ RU": (6, 6),
    "ГВЭ MA": (6, 9),
}
RETAKE_DAYS = 20
APPEALS_PER_YEAR = 3
DUMMY_SURNAMES = ("Иванов", "Петров", "Смирнов", "Кузнецов", "Попов", "Соколов", "Лебедев", "Козлов")
DUMMY_NAMES = ("Иван", "Пётр", "Семён", "Алексей", "Дмитрий", "Андрей")
DUMMY_PATRONYMICS = ("Иванович", "Петрович", "Сергеевич", "Андреевич")
LATIN_EXAM = {"ОГЭ": "oge", "ЕГЭ": "ege", "ГВЭ": "gve"}


def gia_school_codes(n_schools: int) -> np.ndarray:
    """The РЦОИ «Код ОО» of each synthetic school: six digits, unrelated to the login."""
    return np.array([f"{110001 + s}" for s in range(n_schools)], dtype=object)


def _dummy_person(code: bytes) -> tuple[str, str, str, str, str]:
    """Surname, name, patronymic, document series and number, all dummies, fixed by the participant code."""
    value = int(code[2:], 16)  # 'P-8F3A21C0': a bijection of the index, so documents are distinct
    digits = f"{value:010d}"
    return (
        DUMMY_SURNAMES[value % 8],
        DUMMY_NAMES[(value >> 3) % 6],
        DUMMY_PATRONYMICS[(value >> 6) % 4],
        digits[:4],
        digits[4:],
    )


def _mean(values: list[int]) -> str:
    return f"{sum(values) / len(values):.1f}".replace(".", ",") if values else ""


def _list_lines(
    rows: GiaRows, keep: np.ndarray, school_codes: np.ndarray, msu_codes: np.ndarray, day: dt.date
) -> list[str]:
    """The lines of one list, in the layout of the exam: spacer columns for ЕГЭ Russian, `Оценка` for base
    maths and ОГЭ/ГВЭ (with a title row naming the exam), footers with the year's minimum for ЕГЭ."""
    exam = rows.exam
    index = np.flatnonzero(keep)
    index = index[np.lexsort((rows.codes[index], rows.school[index]))]
    people = [_dummy_person(bytes(code)) for code in rows.codes[index]]
    schools = rows.school[index]
    primary = rows.primary[index].astype(int).tolist()
    title = f"{exam.subject_code:02d} - {exam.subject_name.replace('(', '').replace(')', '')} {day:%Y.%m.%d}"
    lines = []
    if exam.test_scale is not None:
        test = rows.test[index].astype(int).tolist()
        fields = [
            "№",
            "Код МСУ",
            "Код ОО",
            "Класс",
            "Фамилия",
            "Имя",
            "Отчество",
            "Серия",
            "Номер",
            "Первичный балл",
            "Балл",
        ]
        # ЕГЭ Russian as the real 2022 list: an empty spacer column after every field but the names
        spaced = exam.subject_code == 1
        header = [cell for f in fields for cell in ([f, ""] if spaced and f not in ("Фамилия", "Имя") else [f])]
        at = {f: header.index(f) for f in fields}

        def line(values: dict[str, str]) -> str:
            cells = [""] * len(header)
            for f, v in values.items():
                cells[at.get(f, 0)] = v
            return ";".join(cells)

        lines += [title + ";" * (len(header) - 1), ";".join(header)]
        for n, (s, person, p, t) in enumerate(zip(schools, people, primary, test), start=1):
            lines.append(
                line(
                    dict(
                        zip(fields, [str(n), msu_codes[s], school_codes[s], f"{exam.grade}А", *person, str(p), str(t)])
                    )
                )
            )
        lines.append(line({"№": "Средние", "Первичный балл": _mean(primary), "Балл": _mean(test)}))
        lines.append(line({"№": "Минимальная граница", "Балл": str(rows.min_score)}))
        lines.append(line({"№": "Всего участников", "Первичный балл": str(len(index))}))
        return lines
    marks = rows.mark[index].astype(int).tolist()
    if exam.exam_type == "ЕГЭ":  # base maths: the real layout, no exam word needed (code 22 is ЕГЭ only)
        header = "№;Код ОО;Класс;Фамилия;Имя;Отчество;Серия;Номер;Первичный балл;Оценка"
        lines += [title + ";" * 9, header]
        for n, (s, person, p, m) in enumerate(zip(schools, people, primary, marks), start=1):
            lines.append(";".join([str(n), school_codes[s], f"{exam.grade}Б", *person, str(p), str(m)]))
        lines.append("Средние" + ";" * 8 + f"{_mean(primary)};{_mean(marks)}")
    else:  # ОГЭ and ГВЭ: the exam named in a title row, the document in one cell, the percentage done
        header = "№;Код МСУ;Код ОО;Класс;Фамилия;Имя;Отчество;Документ;Первичный балл;Процент выполнения;Оценка"
        percent = rows.percent_tenths[index].astype(int)
        lines += [f"Результаты {exam.exam_type}" + ";" * 10, title + ";" * 10, header]
        for n, (s, person, p, pc_, m) in enumerate(zip(schools, people, primary, percent, marks), start=1):
            lines.append(
                ";".join(
                    [
                        str(n),
                        msu_codes[s],
                        school_codes[s],
                        f"{exam.grade}А",
                        *person[:3],
                        f"{person[3]} {person[4]}",
                        str(p),
                        f"{pc_ // 10},{pc_ % 10}",
                        str(m),
                    ]
                )
            )
        lines.append("Средние" + ";" * 8 + f"{_mean(primary)};;{_mean(marks)}")
    lines.append("Всего участников" + ";" * 8 + str(len(index)) + ";;")
    return lines


def _appeal_lines(rows: GiaRows, school_codes: np.ndarray, day: dt.date, seed: int) -> list[str]:
    """An appeals list of the year's ЕГЭ Russian: a few first attempts well above the minimum, raised by one
    or two test points (never across the minimum, so the planted ШНОР cases stay as they are)."""
    candidates = np.flatnonzero(~rows.retake & (rows.test >= (rows.min_score or 0) + 10) & (rows.test <= 95))
    if not len(candidates):
        return []
    rng = np.random.default_rng([seed, rows.year, 12])
    chosen = np.sort(rng.choice(candidates, size=min(APPEALS_PER_YEAR, len(candidates)), replace=False))
    title = f"{rows.exam.subject_code:02d} - {rows.exam.subject_name} {day:%Y.%m.%d}"
    lines = [
        ";" * 7 + title + ";" * 11,
        "№;Код ОО;Класс;Код ППЭ;Аудитория;Фамилия;Имя;;Отчество;Документ;Тип апелляции / перепроверки;"
        "Состояние;;Дата отправки на обработку;Дата изменений;Балл до изменения;Текущие;;Разница",
        ";" * 16 + "Первичный балл;Балл;",
    ]
    sent, changed = day + dt.timedelta(days=30), day + dt.timedelta(days=33)
    for n, i in enumerate(chosen, start=1):
        person = _dummy_person(bytes(rows.codes[i]))
        gain = 1 + n % 2
        lines.append(
            ";".join(
                [
                    str(n),
                    school_codes[rows.school[i]],
                    "11А",
                    "1111",
                    f"{n:04d}",
                    person[0],
                    person[1],
                    "",
                    person[2],
                    f"{person[3]} {person[4]}",
                    "Апелляция о несогласии с выставленными баллами",
                    "Апелляция удовлетворена",
                    "",
                    f"{sent:%d.%m.%Y} 10:1{n}:00",
                    f"{changed:%d.%m.%Y} 9:0{n}:41",
                    str(int(rows.test[i])),
                    str(int(rows.primary[i]) + 1),
                    str(int(rows.test[i]) + gain),
                    str(gain),
                ]
            )
        )
    return lines


def _write_lines(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1251"))


def write_gia_lists(
    out: Path, chunks: list[GiaRows], logins: np.ndarray, school_codes: np.ndarray, msu_codes: np.ndarray, seed: int
) -> list[GiaRows]:
    """A year's ГИА as РЦОИ lists: gia/<year>/<exam>_<code>_<date>.csv for the main day and the retake day,
    and an appeals list for ЕГЭ Russian. Results replaced by school marks (2020 ОГЭ/ГВЭ) have no list: they
    are returned, for the CSV layout."""
    school_marks = []
    for rows in chunks:
        if not len(rows):
            continue
        if rows.school_marks:
            school_marks.append(rows)
            continue
        month, day_of_month = GIA_LIST_DAYS[rows.exam.label]
        main = dt.date(rows.year, month, day_of_month)
        for day, keep in ((main, ~rows.retake), (main + dt.timedelta(days=RETAKE_DAYS), rows.retake)):
            if keep.any():
                name = f"{LATIN_EXAM[rows.exam.exam_type]}_{rows.exam.subject_code:02d}_{day:%Y-%m-%d}.csv"
                _write_lines(out / "gia" / str(rows.year) / name, _list_lines(rows, keep, school_codes, msu_codes, day))
        if rows.exam.label == "ЕГЭ RU":
            appeals = _appeal_lines(rows, school_codes, main, seed)
            if appeals:
                _write_lines(out / "gia" / str(rows.year) / f"ege_01_appeals_{rows.year}.csv", appeals)
    return school_marks


def write_gia_school_codes(
    path: Path, logins: np.ndarray, names: np.ndarray, school_codes: np.ndarray, years: list[int]
) -> None:
    """registry/gia_school_codes.xlsx: the crosswalk of РЦОИ codes to logins, a row per school and year."""
    rows = [
        [year, login, name, code, None, code]
        for year in years
        for login, name, code in zip(logins, names, school_codes)
    ]
    write_titled_table(
        path,
        "Коды ОО",
        ["Коды ОО РЦОИ и логины ФИС ОКО"],
        ["Год", "Логин", "Наименование ОО", "Код ОО", "Код ОГЭ", "Код ЕГЭ"],
        rows,
        len(rows),
    )
