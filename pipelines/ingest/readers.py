"""Readers: one input file's bytes → a frame of raw columns with the row numbers a person sees.

Files arrive as people keep them: title rows above the table, merged cells, stray spaces in headers and
logins, numbers typed as text with decimal commas, CSV from Windows in cp1251 or UTF-8 with a BOM. The
readers absorb that and nothing more; whether the values make sense is for the contracts to say. A file
that cannot be read at all raises `ReadError` with a message for the person who sent it.

Readers take the file's bytes, not its path, so what is parsed is exactly what was fingerprinted. The ГИА
CSV, millions of rows at federal scale, is read in blocks instead (`csv_reader.py`).
"""

from __future__ import annotations

import difflib
import functools
import html
import io
import math
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandera.pandas as pa
from python_calamine import CalamineWorkbook

from pipelines.ingest import contracts
from pipelines.ingest.contracts import rule

HEADER_SEARCH_ROWS = 30  # title blocks are a few rows; a data cell reading «Год» further down is not a header


def _as_is(value: Any, row: Any, column: str) -> str:
    return str(value)


UNREADABLE = rule("unreadable", "a readable xlsx or CSV file", _as_is)
HEADER_NOT_FOUND = rule("header_not_found", "a header row starting with the first documented header", _as_is)
MISSING_COLUMN = rule("missing_column", "every required column in the header row", _as_is)
DUPLICATE_COLUMN = rule("duplicate_column", "each column once in the header row", _as_is)
FILE_NAME = rule("file_name", "the file name documented in docs/inputs.md", _as_is)
UNKNOWN_HEADER = rule("unknown_header", "no header that looks like a misspelt documented one", _as_is)
NO_MARKER_COLUMNS = rule("no_marker_columns", "at least one marker column «<класс> <РУ|МА>»", _as_is)


class ReadError(Exception):
    """The file cannot be read as its source; it is quarantined with this message."""

    def __init__(self, rule_id: str, message: str):
        super().__init__(rule_id, message)  # both in args, so the error survives pickling from a worker
        self.rule_id = rule_id
        self.message = message


@dataclass
class Table:
    """The table found in a sheet or CSV: its header and the rows below, with their row numbers."""

    sheet: str | None
    header_row: int
    headers: list[str]
    rows: list[list[Any]]
    row_numbers: list[int]
    above: list[list[Any]]  # rows above the header: titles, which some forms use to say whose they are
    first_column: int = 0  # where the table starts in its row


Columns = dict[str, list[Any]]  # a frame-to-be: many small files are cheaper as lists, joined once


@dataclass
class ParsedFile:
    """What a reader made of one file: raw-column rows, and for ВПР files one row per task cell."""

    columns: Columns
    sheet: str | None
    cells: Columns | None = None
    headers: dict[str, str] | None = None  # raw column → its header in this file, where the layout varies
    issues: list = field(default_factory=list)  # warnings the reader found (validate.Issue)
    row_level: bool = False  # a file of many schools: a failing row is left out, not the whole file


@functools.lru_cache(maxsize=4096)  # the same headers recur in every one of thousands of forms
def normalised(value: Any) -> str:
    """A header or label as compared: spaces collapsed, case and ё ignored."""
    return " ".join(str(value).split()).casefold().replace("ё", "е")


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _has_value(cells: list[Any]) -> bool:
    """Whether a row has a non-empty cell; most rows answer at their first cell."""
    return any(value is not None and (value.__class__ is not str or value.strip()) for value in cells)


# --------------------------------------------------------------------------------------------------
# Finding the table


def _fill_merged(rows: list[list[Any]], ranges: list[tuple[tuple[int, int], tuple[int, int]]] | None) -> None:
    """Gives every cell of a merged range the value of its top-left cell, as a person reads it."""
    for (top, left), (bottom, right) in ranges or []:
        if top >= len(rows) or left >= len(rows[top]):
            continue
        value = rows[top][left]
        for r in range(top, min(bottom, len(rows) - 1) + 1):
            for c in range(left, min(right, len(rows[r]) - 1) + 1):
                rows[r][c] = value


def find_table(rows: list[list[Any]], row_numbers: list[int], first_header: str, sheet: str | None) -> Table | None:
    """The table whose header row holds `first_header`; the table starts at that cell's column."""
    wanted = normalised(first_header)
    for r, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        for c, cell in enumerate(row):
            if isinstance(cell, str) and normalised(cell) == wanted:
                # the table starts at the row's first filled cell: a reordered header keeps the columns left of it
                c = next(i for i, value in enumerate(row) if not _is_empty(value))
                headers = [" ".join(str(h).split()) for h in row[c:]]
                while headers and not headers[-1]:
                    headers.pop()
                body = [(n, cells[c : c + len(headers)]) for n, cells in zip(row_numbers[r + 1 :], rows[r + 1 :])]
                body = [(n, cells + [None] * (len(headers) - len(cells))) for n, cells in body if _has_value(cells)]
                return Table(sheet, row_numbers[r], headers, [b[1] for b in body], [b[0] for b in body], rows[:r], c)
    return None


def _sheet_rows(workbook: CalamineWorkbook, name: str) -> list[list[Any]]:
    """A sheet's cells from A1 (empty cells are ''), merged ranges filled in."""
    try:
        sheet = workbook.get_sheet_by_name(name)
        rows, merged = sheet.to_python(skip_empty_area=False), sheet.merged_cell_ranges
    except Exception as error:  # calamine raises several unrelated types for damaged files
        raise ReadError(UNREADABLE.id, f"sheet «{name}» cannot be read ({type(error).__name__}: {error})") from error
    _fill_merged(rows, merged)
    for (r, c), error in getattr(workbook, "errors", {}).get(name, {}).items():
        # kept as text, so a contract reports it with its cell («#DIV/0!» is not a number), never as empty
        if r < len(rows) and c < len(rows[r]):
            rows[r][c] = error
    return rows


def what_the_file_is(data: bytes) -> str:
    """What a file that is not a readable xlsx workbook really is, said so that its sender can fix it."""
    if not data.strip():
        return "is empty (0 bytes or only blanks): download or save it again"
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):  # an OLE2 compound file
        if "EncryptedPackage".encode("utf-16-le") in data:
            return (
                "is a password-protected (encrypted) workbook: open it in Excel, remove the password "
                "(Файл → Сведения → Защитить книгу → Зашифровать с использованием пароля) and save it again"
            )
        return (
            "is an Excel 97–2003 workbook (.xls) under an .xlsx name: open it in Excel and save it as .xlsx "
            "(«Книга Excel»)"
        )
    if data.startswith(b"PK"):
        try:
            names = zipfile.ZipFile(io.BytesIO(data)).namelist()
        except (zipfile.BadZipFile, ValueError):
            return "is truncated or damaged (an incomplete download or copy?): download or save it again"
        if "word/document.xml" in names:
            return "is a Word document, not an Excel workbook"
        if "xl/workbook.xml" not in names:
            return "is a ZIP archive, not an Excel workbook"
        return "is an Excel workbook whose contents are damaged: open it in Excel and save it again"
    head = data[:4096].lstrip()
    if head[:1] == b"<":
        return (
            "is an HTML or XML page saved under an .xlsx name, not an Excel workbook: open it in Excel and save "
            "it as .xlsx"
        )
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" not in head:
        return (
            "is a text file (CSV?) saved under an .xlsx name, not an Excel workbook: open it in Excel and "
            "save it as .xlsx («Книга Excel»)"
        )
    return "is not an Excel workbook (.xlsx)"


class Workbook:
    """A calamine workbook and the cells holding Excel errors (#DIV/0!, #N/A, …), which calamine reads as empty."""

    def __init__(self, data: bytes):
        try:
            self._book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        except Exception as error:  # calamine raises several unrelated types for damaged files
            raise ReadError(UNREADABLE.id, f"{what_the_file_is(data)} ({type(error).__name__})") from error
        self.errors = error_cells(data) if b"xl/worksheets" in data else {}

    def __getattr__(self, name):
        return getattr(self._book, name)


EXCEL_ERROR_CELL = re.compile(
    rb'<c r="([A-Z]+)(\d+)"[^>]*\bt="e"[^>]*>(?:<f[^>]*/>|<f[^>]*>.*?</f>)?<v>([^<]*)</v>', re.S
)


def _column_index(letters: bytes) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + letter - 64
    return index - 1


def error_cells(data: bytes) -> dict[str, dict[tuple[int, int], str]]:
    """Sheet name → {(row, column) from 0: the error text} of every cell holding an Excel error value."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        workbook = archive.read("xl/workbook.xml").decode("utf-8")
        rels = archive.read("xl/_rels/workbook.xml.rels").decode("utf-8")
    except (KeyError, zipfile.BadZipFile, ValueError):
        return {}
    targets = dict(re.findall(r'<Relationship[^>]*?Id="([^"]+)"[^>]*?Target="([^"]+)"', rels))
    targets |= {i: t for t, i in re.findall(r'<Relationship[^>]*?Target="([^"]+)"[^>]*?Id="([^"]+)"', rels)}
    found = {}
    for name, rid in re.findall(r'<sheet [^>]*?name="([^"]*)"[^>]*?r:id="([^"]+)"', workbook):
        target = targets.get(rid, "")
        path = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
        try:
            xml = archive.read(path)
        except KeyError:
            continue
        if b't="e"' not in xml:
            continue
        cells = {
            (int(row) - 1, _column_index(col)): html.unescape(value.decode("utf-8"))
            for col, row, value in EXCEL_ERROR_CELL.findall(xml)
        }
        if cells:
            found[html.unescape(name)] = cells
    return found


def read_xlsx(data: bytes, sheet_name: str | None, first_header: str) -> Table:
    """The table of an xlsx workbook: the named sheet if there is one, else the first sheet that has it."""
    workbook = Workbook(data)
    names = workbook.sheet_names
    if sheet_name is not None:
        names = sorted(names, key=lambda name: normalised(name) != normalised(sheet_name))
    for name in names:
        rows = _sheet_rows(workbook, name)
        table = find_table(rows, list(range(1, len(rows) + 1)), first_header, name)
        if table:
            return table
    raise ReadError(
        HEADER_NOT_FOUND.id,
        f"no sheet has a header row starting with «{first_header}» in its first {HEADER_SEARCH_ROWS} rows",
    )


# --------------------------------------------------------------------------------------------------
# Cells


def text_cell(value: Any) -> str | None:
    if value.__class__ is str:  # most cells: decided first
        return value.strip() or None
    if _is_empty(value):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value.strip() if isinstance(value, str) else str(value)


def number_cell(value: Any) -> Any:
    """A number from a cell; text such as «12,5» is parsed, other text is kept for the contract to reject."""
    if type(value) is float:  # most cells: decided first, as forms have hundreds of thousands of them
        return value
    if _is_empty(value):
        return None
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        return _number_in_text(value)
    return value


@functools.lru_cache(maxsize=65536)  # region exports hold every number as text, from a vocabulary of a few dozen
def _number_in_text(value: str) -> float | str:
    for candidate in (value, re.sub(r"\s", "", value).replace(",", ".")):  # «12,5», «1 024»
        try:
            number = float(candidate)
        except ValueError:
            continue
        return number if math.isfinite(number) else value.strip()  # «nan» typed in a cell is text
    return value.strip()


LOGIN_IN_TEXT = re.compile(r"(?<![a-z0-9_])([a-z]{2,5}\d{4,8})(?![a-z0-9_])")


def login_cell(value: Any) -> str | None:
    """A login, lower-cased; found inside text too (`edu223017 | МБОУ …`, `МБОУ …(edu203389)`)."""
    text = text_cell(value)
    if text is None:
        return None
    lowered = text.lower()
    match = LOGIN_IN_TEXT.search(lowered)
    return match[1] if match else lowered


def _converter(name: str, column: pa.Column) -> Callable[[Any], Any]:
    if name == "login":
        return login_cell
    return text_cell if column.metadata["sql_type"] == "varchar" else number_cell


def column_positions(headers: list[str], header_row: int, schema: pa.DataFrameSchema) -> dict[str, int]:
    """Where each documented column is in the header row; raises ReadError for a repeated or missing one."""
    documented = contracts.headers(schema)
    wanted = {normalised(title): name for title, name in documented.items()}
    positions: dict[str, int] = {}
    for position, header in enumerate(headers):
        name = wanted.get(normalised(header))
        if name is None:
            continue
        if name in positions:
            raise ReadError(DUPLICATE_COLUMN.id, f"column «{header}» appears twice in the header row {header_row}")
        positions[name] = position
    absent = {title: name for title, name in documented.items() if name not in positions}
    for header in headers:
        if header and normalised(header) not in wanted:
            close_to(header, list(absent), header_row)
    missing = [title for title in contracts.required_headers(schema) if documented[title] not in positions]
    if missing:
        listed = ", ".join(f"«{title}»" for title in missing)
        raise ReadError(MISSING_COLUMN.id, f"the header row {header_row} has no column {listed}")
    return positions


def close_to(header: str, documented: list[str], header_row: int) -> None:
    """Raises ReadError when an unknown header is a near miss of a documented one the file lacks (a typo would
    otherwise load the documented column as empty)."""
    known = {normalised(title): title for title in documented}
    close = difflib.get_close_matches(normalised(header), list(known), n=1, cutoff=0.85)
    if close:
        raise ReadError(
            UNKNOWN_HEADER.id,
            f"the header row {header_row} has an unknown column «{header}», close to "
            f"the documented «{known[close[0]]}»: correct the header (otherwise that column would be read "
            "as empty)",
        )


def columns_from_table(table: Table, source: str) -> Columns:
    """Raw columns of the table's documented headers, typed as the source's contract expects them."""
    schema = contracts.reading_contract(source)
    positions = column_positions(table.headers, table.header_row, schema)
    columns: Columns = {}
    for name in dict.fromkeys(contracts.headers(schema).values()):
        convert, position = _converter(name, schema.columns[name]), positions.get(name)
        columns[name] = [None if position is None else convert(row[position]) for row in table.rows]
    columns["_sheet"] = [table.sheet] * len(table.rows)
    columns["_row_number"] = list(table.row_numbers)
    return columns


def _constant(columns: Columns, name: str, value: Any) -> Columns:
    columns[name] = [value] * len(columns["_row_number"])
    return columns


# --------------------------------------------------------------------------------------------------
# One reader per source


def year_in_name(path: str, pattern: str, documented: str) -> int:
    match = re.fullmatch(pattern, path)
    if not match:
        raise ReadError(FILE_NAME.id, f"the file name should be {documented}")
    return int(match[1])


def read_schools(path: str, data: bytes) -> ParsedFile:
    table = read_xlsx(data, "Реестр ОО", "Логин")
    return ParsedFile(columns_from_table(table, "schools"), table.sheet)


def read_login_aliases(path: str, data: bytes) -> ParsedFile:
    table = read_xlsx(data, None, "Прежний логин")
    return ParsedFile(columns_from_table(table, "login_aliases"), table.sheet)


def read_shnor(path: str, data: bytes) -> ParsedFile:
    year = year_in_name(path, r"fioko/shnor_(\d{4})\.xlsx", "fioko/shnor_<YYYY>.xlsx")
    table = read_xlsx(data, "Перечень", "Год")
    return ParsedFile(_constant(columns_from_table(table, "fioko_shnor"), "_file_year", year), table.sheet)


def read_risk_profiles(path: str, data: bytes) -> ParsedFile:
    year = year_in_name(path, r"fioko/risk_profiles_(\d{4})\.xlsx", "fioko/risk_profiles_<YYYY>.xlsx")
    table = read_xlsx(data, "Рисковые профили", "Год")
    return ParsedFile(_constant(columns_from_table(table, "fioko_risk_profiles"), "_file_year", year), table.sheet)


def read_objectivity_markers(path: str, data: bytes) -> ParsedFile:
    """FIOKO's wide form (a column per work) → one row per school × year × marker column."""
    table = read_xlsx(data, None, "Год")
    markers = [(p, h) for p, h in enumerate(table.headers) if contracts.marker_work_code(h)]
    if not markers:
        raise ReadError(NO_MARKER_COLUMNS.id, f"the header row {table.header_row} has no marker column such as «4 РУ»")
    wide = columns_from_table(table, "fioko_objectivity_markers")
    values = [[number_cell(row[p]) for p, _ in markers] for row in table.rows]
    sums = [sum(v for v in row if isinstance(v, float)) for row in values]
    long: Columns = {name: [] for name in [*wide, "marker_column", "work_code", "marker", "_column", "_marker_sum"]}
    for r, row in enumerate(values):
        for (_, header), marker in zip(markers, row):
            for name in wide:
                long[name].append(wide[name][r])
            long["marker_column"].append(header)
            long["work_code"].append(contracts.marker_work_code(header))
            long["marker"].append(marker)
            long["_column"].append(header)
            long["_marker_sum"].append(sums[r])
    return ParsedFile(long, table.sheet)


def read_social_passport(path: str, data: bytes) -> ParsedFile:
    year = year_in_name(
        path, r"social_passport/social_passport_(\d{4})\.xlsx", "social_passport/social_passport_<YYYY>.xlsx"
    )
    table = read_xlsx(data, "Социальный паспорт", "Логин")
    return ParsedFile(_constant(columns_from_table(table, "social_passport"), "year", year), table.sheet)


def read_gia_school_codes(path: str, data: bytes) -> ParsedFile:
    """The crosswalk of РЦОИ / ОГЭ / ЕГЭ school codes to logins, per year (docs/inputs.md, ГИА)."""
    table = read_xlsx(data, "Коды ОО", "Год")
    return ParsedFile(columns_from_table(table, "gia_school_codes"), table.sheet)
