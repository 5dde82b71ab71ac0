"""The analysts' Excel workbooks, written with xlsxwriter from the release's tables.

A workbook opens at its summary (ШНОР by year, targets met, flagged schools, with charts), then a contents
sheet naming the release, then one sheet per published mart: an Excel table with filters under a frozen
header, Russian headers and Russian values (codes through ``config/workbook_labels.yml``), shares as
percentages with fixed decimals, the rows that need attention highlighted, and a print setup (landscape,
fit to the page width, the header repeated on every page).

Cells go from DuckDB to xlsxwriter in batches of rows. A workbook with more rows than
``workbook.in_memory_rows`` is streamed (xlsxwriter's ``constant_memory``): memory stays bounded, and its
sheets get a filter instead of an Excel table, which xlsxwriter can only write in memory. Text is always
written as text: a value that a spreadsheet would take for a formula keeps Excel's quote prefix, so it is
not evaluated even when a person edits the cell. A mart too large for a sheet is never cut: its sheet
says where the full table is.

A release with many school-level rows (``workbook.split``) gets a main workbook with the summary and the
aggregated marts, and one workbook per municipality with that municipality's summary and school rows,
written by worker processes: xlsxwriter is pure Python (about 75,000 cells a second per core). Rendering
the cells as SpreadsheetML in DuckDB, as this module once did, was about ten times faster, but tables,
charts, conditional formats and print setup are the library's to get right, not this project's.
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import math
import multiprocessing
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import xlsxwriter
from xlsxwriter.utility import xl_col_to_name

from pipelines.defs.publish.config import Highlight
from pipelines.defs.publish.workbook_summary import SummaryBlock, summary_blocks

EXCEL_MAX_ROWS = 1_048_575  # data rows under the header row
EXCEL_MAX_CHARS = 32_767  # characters in one cell
WIDTH_SAMPLE_ROWS = 2000
MIN_WIDTH, MAX_WIDTH = 8, 60
LINE_HEIGHT = 15  # points per line of the default font
MAX_LINES = 12  # a taller row would hide the rows around it; the cell keeps the whole text
FETCH_ROWS = 10_000
SUMMARY_WIDTH = 16
SUMMARY_SHEET, CONTENTS_SHEET = "Сводка", "Содержание"
TABLE_STYLE = "Table Style Light 9"
# Text that a spreadsheet could take for a formula (=HYPERLINK(…), +cmd|…, -1+1, @SUM(…), a leading tab or CR).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CONTROL_CHARACTERS = "[\\x00-\\x08\\x0B\\x0C\\x0E-\\x1F]"  # XML 1.0 forbids them in a cell

INTEGER_TYPES = {
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
    "UHUGEINT",
}
FLOAT_TYPES = {"FLOAT", "DOUBLE", "DECIMAL", "REAL"}
INTEGER_FORMAT, PERCENT_FORMAT, DECIMAL_FORMAT = "0", "0.0%", "0.00"
DATE_FORMAT, DATETIME_FORMAT = "dd.mm.yyyy", "dd.mm.yyyy hh:mm"
HIGHLIGHT_COLOURS = {"alarm": ("#FFC7CE", "#9C0006"), "warning": ("#FFEB9C", "#9C5700"), "good": ("#C6EFCE", "#006100")}


@dataclass(frozen=True)
class Sheet:
    name: str
    title: str
    headers: Sequence[str]
    table: str  # the published table the cells are read from, on the connection given to write_workbook
    columns: Sequence[tuple[str, str]]  # (column, DuckDB type), in sheet order
    rows: int
    freeze_columns: int
    note: str  # what the contents sheet says about it (suppression, where the full table is)
    full_table: str  # the Parquet file, for a mart too large for Excel
    key: str = "mart"  # the mart's name: the Excel table's name
    highlights: Sequence[Highlight] = ()  # rows whose column shows a value (as written: «да») are coloured
    labels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # column → code → Russian label
    replacements: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # the same, in lists of codes
    number_formats: Mapping[str, str] = field(default_factory=dict)  # column → Excel number format
    where: str = ""  # a condition on the table: the rows of one territory's workbook
    layout: tuple[Sequence[int], frozenset[int]] | None = None  # widths and wrapped columns, if already known

    @property
    def fits(self) -> bool:
        return self.rows <= EXCEL_MAX_ROWS


@dataclass(frozen=True)
class Link:
    """Another file of the release listed on the contents sheet (a territory's workbook)."""

    label: str
    target: str  # relative to the workbook
    rows: int


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    return xl_col_to_name(index)


def _base_type(duckdb_type: str) -> str:
    return duckdb_type.split("(")[0].upper()


def _is_percent(column: str, duckdb_type: str) -> bool:
    """Marts name shares in percent points ``…_pct``; the workbook shows them as Excel percentages."""
    return column.endswith("_pct") and _base_type(duckdb_type) in FLOAT_TYPES | INTEGER_TYPES


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # number, datetime, text
    number_format: str | None
    select: str  # the SQL giving the cell's value as written


def column_spec(
    column: str,
    duckdb_type: str,
    labels: Mapping[str, str] | None = None,
    number_format: str | None = None,
    replacements: Mapping[str, str] | None = None,
) -> Column:
    """How a column is written: its value in SQL (labels, percentages, blanks for NaN) and its format."""
    quoted, base = f'"{column}"', _base_type(duckdb_type)
    if base == "BOOLEAN":
        return Column(column, "text", None, f"case when {quoted} then 'да' when not {quoted} then 'нет' end")
    if _is_percent(column, duckdb_type):
        return Column(
            column,
            "number",
            number_format or PERCENT_FORMAT,
            f"case when isfinite({quoted}::double) then {quoted}::double / 100 end",
        )
    if base in INTEGER_TYPES:
        return Column(column, "number", number_format or INTEGER_FORMAT, quoted)
    if base in FLOAT_TYPES:
        return Column(
            column,
            "number",
            number_format or DECIMAL_FORMAT,
            f"case when isfinite({quoted}::double) then {quoted}::double end",
        )
    if base == "DATE":
        return Column(column, "datetime", number_format or DATE_FORMAT, f"{quoted}::timestamp")
    if base.startswith("TIMESTAMP"):
        return Column(column, "datetime", number_format or DATETIME_FORMAT, f"{quoted}::timestamp")
    text = f"array_to_string({quoted}, ', ')" if duckdb_type.endswith("[]") else f"{quoted}::varchar"
    for code in sorted(replacements or {}, key=len, reverse=True):
        text = f"replace({text}, {_quote(code)}, {_quote(replacements[code])})"
    if labels:
        cases = " ".join(f"when {_quote(code)} then {_quote(label)}" for code, label in labels.items())
        text = f"coalesce(case {text} {cases} end, {text})"
    return Column(
        column, "text", None, f"regexp_replace(left({text}, {EXCEL_MAX_CHARS}), '{CONTROL_CHARACTERS}', '', 'g')"
    )


def sheet_columns(sheet: Sheet) -> list[Column]:
    return [
        column_spec(name, kind, sheet.labels.get(name), sheet.number_formats.get(name), sheet.replacements.get(name))
        for name, kind in sheet.columns
    ]


class Formats:
    """The cell formats of one workbook, created once and shared by its sheets."""

    def __init__(self, book: xlsxwriter.Workbook):
        self.book = book
        self.title = book.add_format({"bold": True, "font_size": 14})
        self.subtitle = book.add_format({"bold": True, "font_size": 12})
        self.header = book.add_format(
            {"bold": True, "text_wrap": True, "valign": "top", "bg_color": "#DCE6F1", "border": 1}
        )
        self.text = book.add_format({"valign": "top"})
        self.wrapped = book.add_format({"valign": "top", "text_wrap": True})
        # The quote prefix (Excel's leading apostrophe) with the text format «@»: shown and kept as typed.
        self.literal = book.add_format({"valign": "top", "quote_prefix": True, "num_format": "@"})
        self.literal_wrapped = book.add_format(
            {"valign": "top", "quote_prefix": True, "num_format": "@", "text_wrap": True}
        )
        self.link = book.add_format({"font_color": "blue", "underline": 1, "valign": "top"})
        self.highlights = {
            name: book.add_format({"bg_color": fill, "font_color": font})
            for name, (fill, font) in HIGHLIGHT_COLOURS.items()
        }
        self._numbers: dict[str, object] = {}

    def number(self, code: str):
        if code not in self._numbers:
            self._numbers[code] = self.book.add_format({"num_format": code, "valign": "top"})
        return self._numbers[code]


def _layout(con, sheet: Sheet, columns: Sequence[Column]) -> tuple[list[int], frozenset[int]]:
    """Column widths (the longest value among the first rows, the longest word of the header) and the text
    columns that wrap: those with longer values than the widest column, or with line breaks."""
    measures = ", ".join(
        f"coalesce(max(length(({c.select}))), 0), coalesce(bool_or(contains(({c.select}), chr(10))), false)"
        if c.kind == "text"
        else "0, false"
        for c in columns
    )
    where = f" where {sheet.where}" if sheet.where else ""
    sample = con.execute(
        f"select {measures} from (select * from {sheet.table}{where} limit {WIDTH_SAMPLE_ROWS})"
    ).fetchall()[0]
    widths, wrapped = [], set()
    for index, (header, column) in enumerate(zip(sheet.headers, columns)):
        longest, breaks = sample[2 * index], sample[2 * index + 1]
        word = max((len(w) for w in header.split()), default=0) + 2
        if column.kind == "number":
            longest = 10 if column.number_format in (PERCENT_FORMAT, DECIMAL_FORMAT) else 8
        elif column.kind == "datetime":
            longest = 16
        widths.append(min(MAX_WIDTH, max(MIN_WIDTH, word, int(longest) + 2)))
        if column.kind == "text" and (breaks or longest + 2 > MAX_WIDTH):
            wrapped.add(index)
    return widths, frozenset(wrapped)


def _header_height(headers: Sequence[str], widths: Sequence[int]) -> float:
    lines = max((math.ceil(len(h) / max(w - 2, 1)) for h, w in zip(headers, widths)), default=1)
    return LINE_HEIGHT * min(max(lines, 1), MAX_LINES)


def _lines_sql(columns: Sequence[Column], widths: Sequence[int], wrapped: set[int]) -> str:
    """Lines the row needs to show its wrapped cells: their length over the column's width, and line breaks."""
    if not wrapped:
        return "1"
    parts = [
        f"coalesce(ceil(length({columns[i].select}) / {widths[i] - 1}) "
        f"+ length({columns[i].select}) - length(replace({columns[i].select}, chr(10), '')), 1)"
        for i in sorted(wrapped)
    ]
    return f"greatest(1, {', '.join(parts)})"


def _writers(sheet_ws, formats: Formats, columns: Sequence[Column], wrapped: set[int]) -> list[Callable]:
    """One function per column writing a non-null value with the column's format."""
    writers = []
    for index, column in enumerate(columns):
        if column.kind == "number":
            number = formats.number(column.number_format)
            writers.append(lambda r, c, v, f=number: sheet_ws.write_number(r, c, v, f))
        elif column.kind == "datetime":
            moment = formats.number(column.number_format)
            writers.append(lambda r, c, v, f=moment: sheet_ws.write_datetime(r, c, v, f))
        else:
            plain, literal = (
                (formats.wrapped, formats.literal_wrapped) if index in wrapped else (formats.text, formats.literal)
            )
            writers.append(
                lambda r, c, v, p=plain, q=literal: sheet_ws.write_string(
                    r, c, v, q if v.startswith(FORMULA_START) else p
                )
            )
    return writers


def _print_setup(ws, title: str, header_rows: int = 1) -> None:
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.fit_to_pages(1, 0)  # as wide as one page, as many pages down as it takes
    ws.repeat_rows(0, header_rows - 1)
    ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    ws.set_footer(f"&L{title[:150].replace('&', '&&')}&RСтраница &P из &N")


def _write_data_sheet(con, book: xlsxwriter.Workbook, formats: Formats, sheet: Sheet, streamed: bool) -> int:
    """The mart's rows under a frozen header, as an Excel table (or a filter when streamed); returns cells."""
    ws = book.add_worksheet(sheet.name)
    if not sheet.fits:
        ws.set_column(0, 0, 100, formats.wrapped)
        ws.write_string(
            0,
            0,
            f"{sheet.title}: {sheet.rows} строк — больше, чем помещается в лист Excel. "
            f"Полная таблица: {sheet.full_table}",
            formats.wrapped,
        )
        return 1
    columns = sheet_columns(sheet)
    widths, wrapped = sheet.layout or _layout(con, sheet, columns)
    for index, width in enumerate(widths):
        ws.set_column(index, index, width)
    last_column = len(columns) - 1
    last_row = max(sheet.rows, 1)  # an Excel table needs a data row, even an empty one
    ws.set_row(0, _header_height(sheet.headers, widths))
    if streamed:
        for index, header in enumerate(sheet.headers):
            ws.write_string(0, index, header, formats.header)
        ws.autofilter(0, 0, last_row, last_column)
    else:
        ws.add_table(
            0,
            0,
            last_row,
            last_column,
            {
                "name": re.sub(r"\W", "_", sheet.key),
                "style": TABLE_STYLE,
                "columns": [{"header": header, "header_format": formats.header} for header in sheet.headers],
            },
        )
    ws.freeze_panes(1, sheet.freeze_columns)
    _print_setup(ws, sheet.title)
    for rule in sheet.highlights:
        names = [name for name, _ in sheet.columns]
        if rule.column in names:
            cell = f"${column_letter(names.index(rule.column))}2"
            value = rule.equals.replace('"', '""')
            ws.conditional_format(
                1,
                0,
                last_row,
                last_column,
                {"type": "formula", "criteria": f'={cell}="{value}"', "format": formats.highlights[rule.style]},
            )

    writers = _writers(ws, formats, columns, wrapped)
    where = f" where {sheet.where}" if sheet.where else ""
    selects = ", ".join(c.select for c in columns)
    result = con.execute(
        f"select {selects}, {_lines_sql(columns, widths, wrapped)} "
        f"from (select * from {sheet.table}{where} order by rowid)"
    )
    row_number, cells = 1, 0
    count = len(columns)
    while batch := result.fetchmany(FETCH_ROWS):
        for values in batch:
            lines = values[count]
            if lines > 1:
                ws.set_row(row_number, LINE_HEIGHT * min(lines, MAX_LINES))
            for index in range(count):
                value = values[index]
                if value is not None:
                    writers[index](row_number, index, value)
                    cells += 1
            row_number += 1
    return cells


def _write_block(
    book, ws, formats: Formats, block: SummaryBlock, first_row: int, table_name: str, streamed: bool
) -> int:
    """A summary table with its heading; returns the first free row under it."""
    ws.write_string(first_row, 0, block.title, formats.subtitle)
    header_row = first_row + 1
    if not block.rows:
        ws.write_string(header_row, 0, block.empty_note, formats.text)
        return header_row + 2
    last_row = header_row + len(block.rows)
    ws.set_row(header_row, _header_height(block.headers, [SUMMARY_WIDTH] * len(block.headers)))
    if streamed:  # xlsxwriter writes Excel tables only in memory
        for index, header in enumerate(block.headers):
            ws.write_string(header_row, index, header, formats.header)
    else:
        ws.add_table(
            header_row,
            0,
            last_row,
            len(block.headers) - 1,
            {
                "name": table_name,
                "style": TABLE_STYLE,
                "autofilter": False,
                "columns": [{"header": header, "header_format": formats.header} for header in block.headers],
            },
        )
    for offset, values in enumerate(block.rows, start=1):
        for index, (value, kind) in enumerate(zip(values, block.kinds)):
            if value is None:
                continue
            if kind == "text":
                ws.write_string(
                    header_row + offset,
                    index,
                    str(value),
                    formats.literal if str(value).startswith(FORMULA_START) else formats.text,
                )
            else:
                code = {"percent": PERCENT_FORMAT, "integer": INTEGER_FORMAT}.get(kind, DECIMAL_FORMAT)
                ws.write_number(header_row + offset, index, value, formats.number(code))
    for rule in block.highlights:
        column = block.headers.index(rule.column)
        cell = f"${column_letter(column)}{header_row + 2}"
        ws.conditional_format(
            header_row + 1,
            0,
            last_row,
            len(block.headers) - 1,
            {"type": "formula", "criteria": f'={cell}="{rule.equals}"', "format": formats.highlights[rule.style]},
        )
    for offset, note in enumerate(block.notes, start=1):
        ws.write_string(last_row + offset, 0, note, formats.text)
    if block.chart:
        _chart(book, ws, block, header_row, last_row)
    height = max(len(block.rows) + len(block.notes), block.chart.rows if block.chart else 0)
    return header_row + height + 3


def _chart(book, ws, block: SummaryBlock, header_row: int, last_row: int) -> None:
    spec = block.chart
    chart = book.add_chart({"type": spec.kind})
    for column in spec.series:
        index = block.headers.index(column)
        chart.add_series(
            {
                "name": [ws.name, header_row, index],
                "categories": [
                    ws.name,
                    header_row + 1,
                    block.headers.index(spec.categories),
                    last_row,
                    block.headers.index(spec.categories),
                ],
                "values": [ws.name, header_row + 1, index, last_row, index],
                "data_labels": {"value": True},
            }
        )
    chart.set_title({"name": spec.title})
    value_axis = {"num_format": spec.num_format, "major_gridlines": {"visible": True}, "min": 0}
    if spec.kind == "bar":  # horizontal bars: the values run along x
        chart.set_x_axis(value_axis)
    else:
        chart.set_y_axis(value_axis)
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": 620, "height": LINE_HEIGHT * 4 / 3 * spec.rows})
    ws.insert_chart(header_row, len(block.headers) + 1, chart)


def _write_summary(
    book, ws, formats: Formats, blocks: Sequence[SummaryBlock], title: str, scope: str, release: str, streamed: bool
) -> None:
    ws.set_column(0, 0, 40)
    ws.set_column(1, 1, 40)  # the schools' names of the list of schools needing attention
    ws.set_column(2, 8, SUMMARY_WIDTH)
    ws.write_string(0, 0, title, formats.title)
    ws.write_string(1, 0, f"Выпуск {release}, сформирован {dt.datetime.now():%d.%m.%Y %H:%M}", formats.text)
    ws.write_string(2, 0, scope, formats.text)
    row = 4
    for number, block in enumerate(blocks, start=1):
        row = _write_block(book, ws, formats, block, row, f"summary_{number}", streamed)
    ws.activate()
    _print_setup(ws, title, header_rows=1)


def _write_contents(
    ws, formats: Formats, sheets: Sequence[Sheet], links: Sequence[Link], title: str, release: str
) -> None:
    ws.set_column(0, 0, 34)
    ws.set_column(1, 1, 60)
    ws.set_column(2, 2, 10)
    ws.set_column(3, 3, 70)
    ws.write_string(0, 0, title, formats.title)
    ws.write_string(1, 0, f"Выпуск {release}, сформирован {dt.datetime.now():%d.%m.%Y %H:%M}", formats.text)
    for index, header in enumerate(("Лист", "Содержание", "Строк", "Примечание")):
        ws.write_string(3, index, header, formats.header)
    row = 4
    entries = [(SUMMARY_SHEET, "Сводка: ШНОР по годам, показатели программы, ОО с признаками", None, "")]
    entries += [(s.name, s.title, s.rows, s.note) for s in sheets]
    for name, text, rows, note in entries:
        ws.write_url(row, 0, f"internal:{_sheet_reference(name)}!A1", formats.link, string=name)
        ws.write_string(row, 1, text, formats.wrapped)
        if rows is not None:
            ws.write_number(row, 2, rows, formats.number(INTEGER_FORMAT))
        ws.write_string(row, 3, note, formats.wrapped)
        row += 1
    if links:
        row += 1
        ws.write_string(row, 0, "Книги по территориям (данные по ОО)", formats.subtitle)
        row += 1
        for link in links:
            ws.write_url(row, 0, f"external:{link.target}", formats.link, string=link.label)
            ws.write_string(row, 1, link.target, formats.text)
            ws.write_number(row, 2, link.rows, formats.number(INTEGER_FORMAT))
            row += 1
    ws.freeze_panes(4, 0)
    _print_setup(ws, title, header_rows=4)


def _sheet_reference(name: str) -> str:
    return "'" + name.replace("'", "''") + "'"


def write_workbook(
    con,
    path: Path,
    sheets: Sequence[Sheet],
    title: str,
    release: str,
    *,
    tables: Mapping[str, str] | None = None,
    scope: str = "",
    where: str = "",
    links: Sequence[Link] = (),
    in_memory_rows: int = 500_000,
) -> int:
    """Writes one workbook from the tables named by the sheets, read through ``con``; returns cells written.

    ``tables`` maps mart names to the tables the summary is computed from, ``where`` limits it (a
    territory's workbook), ``links`` lists other workbooks of the release on the contents sheet.
    """
    streamed = sum(s.rows for s in sheets) > in_memory_rows
    options = {
        "constant_memory": streamed,
        "strings_to_formulas": False,
        "strings_to_numbers": False,
        "strings_to_urls": False,
        "nan_inf_to_errors": False,
        "default_date_format": DATETIME_FORMAT,
    }
    book = xlsxwriter.Workbook(str(path), options)
    book.set_properties({"title": title, "subject": f"Выпуск {release}", "comments": scope})
    book.set_size(1600, 1000)
    formats = Formats(book)
    summary = book.add_worksheet(SUMMARY_SHEET)
    contents = book.add_worksheet(CONTENTS_SHEET)
    blocks = summary_blocks(con, tables or {}, where)
    _write_summary(book, summary, formats, blocks, title, scope or "Все ОО выпуска", release, streamed)
    _write_contents(contents, formats, sheets, links, title, release)
    cells = sum(_write_data_sheet(con, book, formats, sheet, streamed) for sheet in sheets)
    book.close()
    return cells


@dataclass(frozen=True)
class Workbooks:
    """What ``write_workbooks`` wrote: the main workbook, the territories' workbooks, cells and seconds."""

    main: Path
    territories: dict[str, Path]  # territory → workbook
    cells: int
    seconds: float


def file_name(territory: str | None) -> str:
    """A territory's workbook name that every file system accepts: letters, digits, spaces, hyphens."""
    name = re.sub(r"[^\w\s\-]", "_", territory or "Без муниципалитета").strip().rstrip(".")
    return f"{name[:100] or 'Без названия'}.xlsx"


def _territory_tables(con, sheets: Sequence[Sheet], column: str, keys: Sequence[str], order: str) -> dict[str, str]:
    """The territories' rows of each school-level mart, copied in territory order: each workbook then reads its
    rows without a scan of the whole mart. ``keys`` are the territories (``NULL_KEY`` for none), ``order``
    the column giving the mart's published row order.

    A mart without the territory column gets it from the other marts by school login.
    """
    con.execute("create or replace temp table _workbook_keys as select unnest(?::varchar[]) as key", [list(keys)])
    with_column = [s for s in sheets if column in dict(s.columns)]
    logins = " union ".join(f'select distinct login, "{column}" as _territory from {s.table}' for s in with_column)
    con.execute(f"create or replace temp table _workbook_logins as {logins}")
    tables = {}
    for sheet in sheets:
        name = "_workbook_" + re.sub(r"\W", "_", sheet.key)
        if column in dict(sheet.columns):
            source = f'select *, "{column}" as _territory, {order} as _order from {sheet.table}'
        else:
            source = (
                f"select t.*, l._territory, t.{order} as _order from {sheet.table} as t "
                f"left join _workbook_logins as l using (login)"
            )
        con.execute(
            f"create or replace temp table {name} as select * from ({source}) "
            f"where coalesce(_territory, '{NULL_KEY}') in (select key from _workbook_keys) "
            f"order by _territory, _order"
        )
        tables[sheet.key] = name
    return tables


NULL_KEY = "(нет)"  # the territory key of rows without a territory


@dataclass(frozen=True)
class _Territory:
    label: str
    key: str  # the column's value, or NULL_KEY
    path: Path


def _write_territories(
    con,
    territories: Sequence[_Territory],
    sheets: Sequence[Sheet],
    summary_tables: Mapping[str, str],
    column: str,
    title: str,
    release: str,
    in_memory_rows: int,
    order: str = "rowid",
) -> dict[str, tuple[int, int]]:
    """One workbook per territory with its rows of every school-level mart; returns (rows, cells) of each."""
    copies = _territory_tables(con, sheets, column, [t.key for t in territories], order)
    rows = {
        key: dict(
            con.execute(f"select coalesce(_territory, '{NULL_KEY}'), count(*) from {table} group by all").fetchall()
        )
        for key, table in copies.items()
    }
    summary = {**summary_tables, **copies}  # the copies carry the territory column: zone maps skip the others
    written = {}
    for territory in territories:
        condition = "_territory is null" if territory.key == NULL_KEY else f"_territory = {_quote(territory.key)}"
        local = [
            replace(s, table=copies[s.key], where=condition, rows=rows[s.key].get(territory.key, 0)) for s in sheets
        ]
        summary_condition = (
            f'"{column}" is null' if territory.key == NULL_KEY else f'"{column}" = {_quote(territory.key)}'
        )
        cells = write_workbook(
            con,
            territory.path,
            local,
            f"{title}: {territory.label}",
            release,
            tables=summary,
            scope=f"Муниципалитет: {territory.label}",
            where=summary_condition,
            in_memory_rows=in_memory_rows,
        )
        written[territory.label] = (sum(s.rows for s in local), cells)
    for table in [*copies.values(), "_workbook_logins", "_workbook_keys"]:
        con.execute(f"drop table {table}")
    return written


def _territories_in_worker(
    parquet: Mapping[str, str],
    territories: Sequence[_Territory],
    sheets: Sequence[Sheet],
    summary_marts: Sequence[str],
    column: str,
    title: str,
    release: str,
    in_memory_rows: int,
) -> dict[str, tuple[int, int]]:
    """A worker process: the release's DuckDB file is open for writing in the parent, so it reads the
    release's Parquet files, whose rows are in the published order (``file_row_number``)."""
    import duckdb

    con = duckdb.connect(config={"threads": 1})
    views = {}
    for key, path in parquet.items():
        views[key] = "_parquet_" + re.sub(r"\W", "_", key)
        con.execute(f"create view {views[key]} as select * from read_parquet({_quote(path)}, file_row_number = true)")
    local = [replace(s, table=views[s.key]) for s in sheets]
    return _write_territories(
        con,
        territories,
        local,
        {key: views[key] for key in summary_marts},
        column,
        title,
        release,
        in_memory_rows,
        order="file_row_number",
    )


def write_workbooks(
    con,
    release_dir: Path,
    main_file: str,
    sheets: Sequence[Sheet],
    title: str,
    release: str,
    *,
    split_column: str,
    split_above_rows: int,
    folder: str,
    in_memory_rows: int,
    workers: int = 1,
) -> Workbooks:
    """The release's workbooks: one with everything while the school-level rows are few; otherwise the main
    workbook with the summary and the aggregated marts, and one workbook per territory with its schools,
    written by ``workers`` processes (xlsxwriter is pure Python: one core each)."""
    started = time.perf_counter()
    school_level = [s for s in sheets if "login" in dict(s.columns)]
    aggregated = [s for s in sheets if s not in school_level]
    summary_tables = {s.key: s.table for s in sheets}
    main = release_dir / main_file
    if sum(s.rows for s in school_level) <= split_above_rows:
        cells = write_workbook(con, main, sheets, title, release, tables=summary_tables, in_memory_rows=in_memory_rows)
        return Workbooks(main, {}, cells, time.perf_counter() - started)

    # Widths and wrapping from the whole mart: every territory's sheet looks the same.
    school_level = [replace(s, layout=_layout(con, s, sheet_columns(s))) for s in school_level]
    with_column = [s for s in school_level if split_column in dict(s.columns)]
    values = {
        v
        for (v,) in con.execute(
            " union ".join(f'select distinct "{split_column}" from {s.table}' for s in with_column)
        ).fetchall()
    }
    known = " union ".join(f"select login from {s.table}" for s in with_column)
    if any(
        con.execute(f"select count(*) from {s.table} where login not in ({known})").fetchone()[0]
        for s in school_level
        if s not in with_column
    ):
        values.add(None)  # schools that no mart places in a territory: their rows are not left out
    (release_dir / folder).mkdir()
    territories, paths = [], set()
    for value in sorted(values, key=lambda v: (v is None, v or "")):
        path = release_dir / folder / file_name(value)
        if path in paths:  # two names that differ only in characters a file name cannot hold
            path = path.with_name(f"{path.stem}_{len(paths)}.xlsx")
        paths.add(path)
        territories.append(_Territory(value or "Без муниципалитета", NULL_KEY if value is None else value, path))

    if workers > 1:
        parquet = {s.key: str(release_dir / s.full_table) for s in sheets}
        groups = [territories[i::workers] for i in range(workers)]
        with concurrent.futures.ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            done = pool.map(
                _territories_in_worker,
                *zip(
                    *[
                        (
                            parquet,
                            group,
                            school_level,
                            [s.key for s in aggregated],
                            split_column,
                            title,
                            release,
                            in_memory_rows,
                        )
                        for group in groups
                    ]
                ),
            )
            written = {label: figures for part in done for label, figures in part.items()}
    else:
        written = _write_territories(
            con, territories, school_level, summary_tables, split_column, title, release, in_memory_rows
        )
    links = [Link(t.label, t.path.relative_to(release_dir).as_posix(), written[t.label][0]) for t in territories]
    cells = write_workbook(
        con, main, aggregated, title, release, tables=summary_tables, links=links, in_memory_rows=in_memory_rows
    )
    cells += sum(figures[1] for figures in written.values())
    return Workbooks(main, {t.label: t.path for t in territories}, cells, time.perf_counter() - started)
