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
GIA_HEADER = ("Год;Тип экзамена;Код предмета;Предмет;Логин ОО;Код участника;Первичный балл;Тестовый балл;"
              "Отметка;Минимальный балл;Процент выполнения;Пересдача;Форма")
FORM_EXAM, FORM_SCHOOL_MARKS = "экзамен", "промежуточная аттестация"
MARKERS_SHEET = "Признаки необъективности папка "  # as in the published file, trailing space included
MARKERS_TABLE = "Признаки_необъективности_папка_для_сборной_таблицы__2"


def _workbook(path: Path, rows: int = 0) -> xlsxwriter.Workbook:
    path.parent.mkdir(parents=True, exist_ok=True)
    options = {"constant_memory": True} if rows > CONSTANT_MEMORY_ROWS else {"in_memory": True}
    workbook = xlsxwriter.Workbook(str(path), options)
    workbook.set_properties({"created": CREATED})
    return workbook


def write_titled_table(path: Path, sheet: str, titles: Sequence[str], header: Sequence[str],
                       rows: Iterable[Sequence], row_count: int = 0) -> None:
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
    worksheet.add_table(0, 0, max(len(rows), 1), len(header) - 1,
                        {"name": MARKERS_TABLE, "columns": [{"header": h} for h in header], "autofilter": False})
    workbook.close()


def _strings(values: np.ndarray, dictionary: Sequence[str]) -> pa.Array:
    return pa.DictionaryArray.from_arrays(pa.array(values, type=pa.int32()), pa.array(dictionary)).cast(pa.string())


def _constant(value: str, n: int) -> pa.Array:
    return _strings(np.zeros(n, dtype=np.int32), [value])


def _nullable(values: np.ndarray, missing: np.ndarray, type_: pa.DataType = pa.int32()) -> pa.Array:
    return pa.array(values.astype(np.int64), mask=missing, type=type_)


def _decimal_comma(tenths: np.ndarray) -> pa.Array:
    whole = pa.array(tenths // 10).cast(pa.string())
    fraction = pa.array(tenths % 10).cast(pa.string())
    joined = pc.binary_join_element_wise(whole, fraction, ",")
    return pc.if_else(pa.array(tenths < 0), pa.scalar(None, pa.string()), joined)


def gia_table(rows: GiaRows, logins: np.ndarray) -> pa.Table:
    n = len(rows)
    exam = rows.exam
    return pa.table({
        "year": pa.array(np.full(n, rows.year, dtype=np.int32)),
        "exam_type": _constant(exam.exam_type, n),
        "subject_code": pa.array(np.full(n, exam.subject_code, dtype=np.int32)),
        "subject_name": _constant(exam.subject_name, n),
        "login": _strings(rows.school, logins.tolist()),
        "participant_code": pa.array(rows.codes).cast(pa.string()),
        "primary_score": _nullable(rows.primary, rows.primary < 0),
        "test_score": _nullable(rows.test, rows.test < 0),
        "mark": _nullable(rows.mark, rows.mark == 0),
        "min_score": pa.array(np.full(n, rows.min_score or 0, dtype=np.int32), mask=np.full(n, rows.min_score is None)),
        "percent_complete": _decimal_comma(rows.percent_tenths),
        "is_retake": pa.array(rows.retake.astype(np.int32)),
        "form": _constant(FORM_SCHOOL_MARKS if rows.school_marks else FORM_EXAM, n),
    })


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


VPR_SCHEMA = pa.schema([
    ("year", pa.int32()), ("login", pa.string()), ("work_code", pa.string()), ("subject_code", pa.string()),
    ("grade", pa.int32()), ("participant_code", pa.string()), ("class_letter", pa.string()), ("variant", pa.int32()),
    ("sex", pa.string()), ("task_scores", pa.list_(pa.int16())), ("task_max", pa.list_(pa.int16())),
    ("primary_score", pa.int32()), ("mark", pa.int32()), ("journal_mark", pa.int32()),
])


def vpr_table(batch: VprBatch, logins: np.ndarray) -> pa.Table:
    n, tasks = batch.scores.shape
    work = batch.work
    list_offsets = pa.array(np.arange(0, n * tasks + 1, tasks, dtype=np.int32))
    flat = batch.scores.ravel()
    return pa.Table.from_arrays([
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
    ], schema=VPR_SCHEMA)


class VprParquet:
    """vpr/vpr_<year>.parquet, written one work at a time so a federal year never sits in memory whole."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.writer = pq.ParquetWriter(str(path), VPR_SCHEMA, compression="zstd")

    def write(self, batch: VprBatch, logins: np.ndarray) -> None:
        self.writer.write_table(vpr_table(batch, logins), row_group_size=1_000_000)

    def close(self) -> None:
        self.writer.close()
