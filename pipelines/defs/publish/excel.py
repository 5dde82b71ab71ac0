"""The analysts' Excel workbook: one formatted sheet per published mart, Russian headers, a contents sheet.

Written with xlsxwriter in constant-memory mode (row by row), so a large mart does not hold the whole
workbook in memory. A mart too large for a sheet is not cut: its sheet says where the full table is.
"""

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import xlsxwriter

EXCEL_MAX_ROWS = 1_048_575  # data rows under the header row
WIDTH_SAMPLE_ROWS = 2000
MIN_WIDTH, MAX_WIDTH = 8, 60
HEADER_FORMAT = {"bold": True, "text_wrap": True, "valign": "top", "bg_color": "#DCE6F1", "border": 1}
TITLE_FORMAT = {"bold": True, "font_size": 14}


@dataclass(frozen=True)
class Sheet:
    name: str
    title: str
    headers: Sequence[str]
    frame: pd.DataFrame
    freeze_columns: int
    note: str  # what the contents sheet says about it (suppression, where the full table is)
    full_table: str  # the Parquet file, for a mart too large for Excel


def _cell(value):
    """Excel has no NULL and no boolean the analysts read: blank and «да»/«нет»."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, bool):
        return "да" if value else "нет"
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if hasattr(value, "item"):  # numpy scalars
        return _cell(value.item())
    return value


def _widths(headers: Sequence[str], frame: pd.DataFrame) -> list[int]:
    sample = frame.head(WIDTH_SAMPLE_ROWS)
    widths = []
    for header, column in zip(headers, frame.columns):
        longest_value = sample[column].map(lambda v: len(str(_cell(v) or ""))).max() if len(sample) else 0
        longest_header_word = max((len(word) for word in header.split()), default=0)
        widths.append(min(MAX_WIDTH, max(MIN_WIDTH, longest_header_word + 2, int(longest_value or 0) + 2)))
    return widths


def _column_formats(workbook, frame: pd.DataFrame) -> list:
    integer = workbook.add_format({"num_format": "0"})
    decimal = workbook.add_format({"num_format": "0.0##"})
    date = workbook.add_format({"num_format": "dd.mm.yyyy hh:mm"})
    formats = []
    for dtype in frame.dtypes:
        if pd.api.types.is_bool_dtype(dtype):
            formats.append(None)
        elif pd.api.types.is_integer_dtype(dtype):
            formats.append(integer)
        elif pd.api.types.is_float_dtype(dtype):
            formats.append(decimal)
        elif pd.api.types.is_datetime64_any_dtype(dtype):
            formats.append(date)
        else:
            formats.append(None)
    return formats


def _write_sheet(workbook, sheet: Sheet, header_format) -> None:
    worksheet = workbook.add_worksheet(sheet.name)
    if len(sheet.frame) > EXCEL_MAX_ROWS:
        worksheet.write(0, 0, f"{sheet.title}: {len(sheet.frame)} строк — больше, чем помещается в лист Excel. "
                              f"Полная таблица: {sheet.full_table}")
        return
    for col, (header, width, fmt) in enumerate(
        zip(sheet.headers, _widths(sheet.headers, sheet.frame), _column_formats(workbook, sheet.frame))
    ):
        worksheet.set_column(col, col, width, fmt)
        worksheet.write(0, col, header, header_format)
    for row, values in enumerate(sheet.frame.itertuples(index=False, name=None), start=1):
        for col, value in enumerate(values):
            worksheet.write(row, col, _cell(value))
    worksheet.freeze_panes(1, sheet.freeze_columns)
    worksheet.autofilter(0, 0, max(len(sheet.frame), 1), len(sheet.headers) - 1)


def _write_contents(workbook, sheets: Sequence[Sheet], title: str, release: str, header_format) -> None:
    worksheet = workbook.add_worksheet("Содержание")
    worksheet.write(0, 0, title, workbook.add_format(TITLE_FORMAT))
    worksheet.write(1, 0, f"Выпуск {release}, сформирован {dt.datetime.now():%d.%m.%Y %H:%M}")
    for col, (header, width) in enumerate(zip(("Лист", "Содержание", "Строк", "Примечание"), (30, 60, 10, 80))):
        worksheet.set_column(col, col, width)
        worksheet.write(3, col, header, header_format)
    wrap = workbook.add_format({"text_wrap": True, "valign": "top"})
    for row, sheet in enumerate(sheets, start=4):
        worksheet.write_url(row, 0, f"internal:'{sheet.name}'!A1", string=sheet.name)
        worksheet.write(row, 1, sheet.title, wrap)
        worksheet.write(row, 2, len(sheet.frame))
        worksheet.write(row, 3, sheet.note, wrap)
    worksheet.freeze_panes(4, 0)


def write_workbook(path: Path, sheets: Sequence[Sheet], title: str, release: str) -> None:
    workbook = xlsxwriter.Workbook(path, {"constant_memory": True, "nan_inf_to_errors": True})
    header_format = workbook.add_format(HEADER_FORMAT)
    _write_contents(workbook, sheets, title, release, header_format)
    for sheet in sheets:
        _write_sheet(workbook, sheet, header_format)
    workbook.close()
