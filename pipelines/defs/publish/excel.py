"""The analysts' Excel workbook: one formatted sheet per published mart, Russian headers, a contents sheet.

The cells are rendered as SpreadsheetML rows by DuckDB, straight from the release's tables, and streamed
into the workbook's zip: no mart is read into Python objects. A per-cell Python writer (xlsxwriter) took
about three minutes for the ≈18 million cells of a federal-scale release; rendering in SQL takes seconds.
The few parts around the cells (styles, frozen panes, filters, the contents sheet) are written here.
Strings are inline, as xlsxwriter writes them in constant-memory mode. A mart too large for a sheet is
not cut: its sheet says where the full table is.
"""

import datetime as dt
import re
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import numpy as np
import pyarrow as pa

EXCEL_MAX_ROWS = 1_048_575  # data rows under the header row
EXCEL_MAX_CHARS = 32_767  # characters in one cell
WIDTH_SAMPLE_ROWS = 2000
MIN_WIDTH, MAX_WIDTH = 8, 60
ROWS_PER_BATCH = 20_000
# Level 1: at federal scale the file is 30 % larger than at the default level 6 (113 MB, not 87 MB), in half the time.
COMPRESS_LEVEL = 1
EXCEL_EPOCH = "1899-12-30"  # day 0 of Excel's serial dates

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'

# Cell styles: positions in the cellXfs list of STYLES_XML.
GENERAL, HEADER, INTEGER, DECIMAL, DATETIME, TITLE, WRAPPED, LINK, LITERAL_TEXT = range(9)
# Text that a spreadsheet could take for a formula (=HYPERLINK(…), +cmd|…, -1+1, @SUM(…), a leading tab or CR)
# is written as a text cell with the «quote prefix» style (Excel's leading apostrophe, number format «@»): shown
# and stored exactly as typed, never evaluated, not even when a person edits the cell and presses Enter.
FORMULA_START = "^[=+\\-@\t\r]"
STYLES_XML = f"""<styleSheet xmlns="{MAIN_NS}">
<numFmts count="2"><numFmt numFmtId="164" formatCode="0.0##"/><numFmt numFmtId="165" formatCode="dd.mm.yyyy hh:mm"/></numFmts>
<fonts count="4">
<font><sz val="11"/><name val="Calibri"/><family val="2"/></font>
<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font>
<font><b/><sz val="14"/><name val="Calibri"/><family val="2"/></font>
<font><u/><sz val="11"/><color rgb="FF0000FF"/><name val="Calibri"/><family val="2"/></font>
</fonts>
<fills count="3"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill>
<fill><patternFill patternType="solid"><fgColor rgb="FFDCE6F1"/><bgColor indexed="64"/></patternFill></fill></fills>
<borders count="2"><border><left/><right/><top/><bottom/><diagonal/></border>
<border><left style="thin"><color auto="1"/></left><right style="thin"><color auto="1"/></right>
<top style="thin"><color auto="1"/></top><bottom style="thin"><color auto="1"/></bottom><diagonal/></border></borders>
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>
<cellXfs count="9">
<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>
<xf numFmtId="0" fontId="1" fillId="2" borderId="1" xfId="0" applyFont="1" applyFill="1" applyBorder="1" applyAlignment="1"><alignment vertical="top" wrapText="1"/></xf>
<xf numFmtId="1" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
<xf numFmtId="0" fontId="2" fillId="0" borderId="0" xfId="0" applyFont="1"/>
<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" applyAlignment="1"><alignment vertical="top" wrapText="1"/></xf>
<xf numFmtId="0" fontId="3" fillId="0" borderId="0" xfId="0" applyFont="1"/>
<xf numFmtId="49" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1" quotePrefix="1"/>
</cellXfs>
<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>
</styleSheet>"""

INTEGER_TYPES = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
                 "UBIGINT", "UHUGEINT"}
FLOAT_TYPES = {"FLOAT", "DOUBLE"}


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

    @property
    def fits(self) -> bool:
        return self.rows <= EXCEL_MAX_ROWS


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def _sql_text(expression: str) -> str:
    """Cell text as XML: characters XML 1.0 forbids dropped, markup escaped, cut at Excel's cell limit."""
    text = f"regexp_replace(left({expression}, {EXCEL_MAX_CHARS}), '[\\x00-\\x08\\x0B\\x0C\\x0E-\\x1F]', '', 'g')"
    return f"replace(replace(replace({text}, '&', '&amp;'), '<', '&lt;'), '>', '&gt;')"


def _base_type(duckdb_type: str) -> str:
    return duckdb_type.split("(")[0].upper()


def style_of(duckdb_type: str) -> int:
    base = _base_type(duckdb_type)
    if base in INTEGER_TYPES:
        return INTEGER
    if base in FLOAT_TYPES or base == "DECIMAL":
        return DECIMAL
    if base == "DATE" or base.startswith("TIMESTAMP"):
        return DATETIME
    return GENERAL


def _sql_cell(column: str, duckdb_type: str, index: int) -> str:
    """SQL rendering one cell as XML; a NULL (or NaN, infinity) is no cell at all, which Excel shows blank."""
    quoted = f'"{column}"'
    opening = f"'<c r=\"{column_letter(index)}', rn, '\""
    base, style = _base_type(duckdb_type), style_of(duckdb_type)
    if base == "BOOLEAN":
        value = f"concat({opening} t=\"inlineStr\"><is><t>', if({quoted}, 'да', 'нет'), '</t></is></c>')"
    elif style == GENERAL:
        literal = f"if(regexp_matches({quoted}::varchar, '{FORMULA_START}'), ' s=\"{LITERAL_TEXT}\"', '')"
        value = (f"concat({opening}', {literal}, ' t=\"inlineStr\"><is><t xml:space=\"preserve\">', "
                 f"{_sql_text(f'{quoted}::varchar')}, '</t></is></c>')")
    elif style == DATETIME:
        serial = f"date_diff('microsecond', TIMESTAMP '{EXCEL_EPOCH}', {quoted}::timestamp) / 86400000000"
        value = f"concat({opening} s=\"{DATETIME}\"><v>', {serial}, '</v></c>')"
    else:
        value = f"concat({opening} s=\"{style}\"><v>', {quoted}, '</v></c>')"
    present = f"isfinite({quoted})" if base in FLOAT_TYPES else f"{quoted} is not null"
    return f"if({present}, {value}, '')"


def rows_sql(sheet: Sheet) -> str:
    """One XML row per table row, numbered from 2 (under the header) in the table's order."""
    cells = ", ".join(_sql_cell(column, kind, i) for i, (column, kind) in enumerate(sheet.columns))
    return (f"select concat('<row r=\"', rn, '\">', {cells}, '</row>') as xml "
            f"from (select *, rowid + 2 as rn from {sheet.table} order by rowid)")


def _widths(con, sheet: Sheet) -> list[int]:
    """Wide enough for the longest value among the first rows and the longest word of the header."""
    lengths = ", ".join(
        "3" if _base_type(kind) == "BOOLEAN" else f'coalesce(max(length("{column}"::varchar)), 0)'
        for column, kind in sheet.columns
    )
    longest = con.execute(f"select {lengths} from (select * from {sheet.table} limit {WIDTH_SAMPLE_ROWS})").fetchall()[0]
    return [
        min(MAX_WIDTH, max(MIN_WIDTH, max((len(word) for word in header.split()), default=0) + 2, int(value) + 2))
        for header, value in zip(sheet.headers, longest)
    ]


def _text_cell(ref: str, text: str, style: int = GENERAL) -> str:
    if style == GENERAL and re.match(FORMULA_START, text):
        style = LITERAL_TEXT
    styled = f' s="{style}"' if style else ""
    return f'<c r="{ref}"{styled} t="inlineStr"><is><t xml:space="preserve">{escape(text)}</t></is></c>'


def _number_cell(ref: str, value: int | float, style: int = INTEGER) -> str:
    return f'<c r="{ref}" s="{style}"><v>{value}</v></c>'


def _row(number: int, cells: Sequence[str]) -> str:
    return f'<row r="{number}">{"".join(cells)}</row>'


def _pane(rows: int, columns: int) -> str:
    """Frozen header rows and key columns."""
    if not rows and not columns:
        return ""
    top_left = f"{column_letter(columns)}{rows + 1}"
    active = "bottomRight" if rows and columns else ("bottomLeft" if rows else "topRight")
    splits = (f' xSplit="{columns}"' if columns else "") + (f' ySplit="{rows}"' if rows else "")
    return (f'<pane{splits} topLeftCell="{top_left}" activePane="{active}" state="frozen"/>'
            f'<selection pane="{active}" activeCell="{top_left}" sqref="{top_left}"/>')


def _sheet_head(dimension: str, pane: str, widths: Sequence[tuple[int, int]], selected: bool) -> str:
    """Everything of a worksheet before its rows; widths are (width, style) per column."""
    cols = "".join(
        f'<col min="{i}" max="{i}" width="{width}" customWidth="1"' + (f' style="{style}"' if style else "") + "/>"
        for i, (width, style) in enumerate(widths, start=1)
    )
    view = '<sheetView tabSelected="1" workbookViewId="0">' if selected else '<sheetView workbookViewId="0">'
    return (f'{XML_DECLARATION}<worksheet xmlns="{MAIN_NS}" xmlns:r="{REL_NS}"><dimension ref="{dimension}"/>'
            f'<sheetViews>{view}{pane}</sheetView></sheetViews><sheetFormatPr defaultRowHeight="15"/>'
            + (f"<cols>{cols}</cols>" if cols else "") + "<sheetData>")


def _sheet_tail(autofilter: str | None = None, links: Sequence[tuple[str, str]] = ()) -> str:
    """Everything after the rows: filter, internal links (cell, target), page margins."""
    parts = ["</sheetData>"]
    if autofilter:
        parts.append(f'<autoFilter ref="{autofilter}"/>')
    if links:
        parts.append("<hyperlinks>" + "".join(f"<hyperlink ref={quoteattr(ref)} location={quoteattr(target)}/>"
                                              for ref, target in links) + "</hyperlinks>")
    parts.append('<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/></worksheet>')
    return "".join(parts)


def _sheet_reference(name: str) -> str:
    return "'" + name.replace("'", "''") + "'"


def _filter_range(sheet: Sheet) -> str:
    return f"A1:{column_letter(len(sheet.columns) - 1)}{max(sheet.rows, 1) + 1}"


def _contents_xml(sheets: Sequence[Sheet], title: str, release: str) -> str:
    rows = [
        _row(1, [_text_cell("A1", title, TITLE)]),
        _row(2, [_text_cell("A2", f"Выпуск {release}, сформирован {dt.datetime.now():%d.%m.%Y %H:%M}")]),
        _row(4, [_text_cell(f"{column_letter(i)}4", header, HEADER)
                 for i, header in enumerate(("Лист", "Содержание", "Строк", "Примечание"))]),
    ]
    for number, sheet in enumerate(sheets, start=5):
        rows.append(_row(number, [_text_cell(f"A{number}", sheet.name, LINK), _text_cell(f"B{number}", sheet.title, WRAPPED),
                                  _number_cell(f"C{number}", sheet.rows), _text_cell(f"D{number}", sheet.note, WRAPPED)]))
    links = [(f"A{number}", f"{_sheet_reference(sheet.name)}!A1") for number, sheet in enumerate(sheets, start=5)]
    head = _sheet_head(f"A1:D{len(sheets) + 4}", _pane(4, 0), [(30, 0), (60, 0), (10, 0), (80, 0)], selected=True)
    return head + "".join(rows) + _sheet_tail(links=links)


def _too_large_xml(sheet: Sheet) -> str:
    note = (f"{sheet.title}: {sheet.rows} строк — больше, чем помещается в лист Excel. "
            f"Полная таблица: {sheet.full_table}")
    return _sheet_head("A1", "", [], selected=False) + _row(1, [_text_cell("A1", note)]) + _sheet_tail()


def _utf8(column: pa.Array) -> memoryview:
    """The concatenated text of a string column, taken from its Arrow buffers without Python strings."""
    column = column.cast(pa.large_string())
    offsets = np.frombuffer(column.buffers()[1], dtype=np.int64)[column.offset: column.offset + len(column) + 1]
    return memoryview(column.buffers()[2])[offsets[0]:offsets[-1]]


def _write_data_sheet(con, archive: zipfile.ZipFile, part: str, sheet: Sheet) -> None:
    """Streams the sheet through a temporary file: zip64 is then used only when the part really needs it."""
    styles = [style_of(kind) for _, kind in sheet.columns]
    head = _sheet_head(_filter_range(sheet), _pane(1, sheet.freeze_columns), list(zip(_widths(con, sheet), styles)),
                       selected=False)
    header = _row(1, [_text_cell(f"{column_letter(i)}1", text, HEADER) for i, text in enumerate(sheet.headers)])
    with tempfile.NamedTemporaryFile(dir=Path(archive.filename).parent, suffix=".xml") as buffer:
        buffer.write((head + header).encode())
        for batch in con.sql(rows_sql(sheet)).to_arrow_reader(ROWS_PER_BATCH):
            if batch.num_rows:
                buffer.write(_utf8(batch.column(0)))
        buffer.write(_sheet_tail(autofilter=_filter_range(sheet)).encode())
        buffer.flush()
        archive.write(buffer.name, part)


def _workbook_xml(sheets: Sequence[Sheet]) -> str:
    entries = "".join(f'<sheet name={quoteattr(name)} sheetId="{i}" r:id="rId{i}"/>'
                      for i, name in enumerate(["Содержание", *(s.name for s in sheets)], start=1))
    filters = "".join(
        f'<definedName name="_xlnm._FilterDatabase" localSheetId="{i}" hidden="1">'
        f'{escape(_sheet_reference(sheet.name))}!{_absolute(_filter_range(sheet))}</definedName>'
        for i, sheet in enumerate(sheets, start=1) if sheet.fits
    )
    names = f"<definedNames>{filters}</definedNames>" if filters else ""
    return (f'{XML_DECLARATION}<workbook xmlns="{MAIN_NS}" xmlns:r="{REL_NS}">'
            f'<bookViews><workbookView activeTab="0"/></bookViews><sheets>{entries}</sheets>{names}</workbook>')


def _absolute(cell_range: str) -> str:
    """A1:C10 → $A$1:$C$10"""
    def absolute(ref: str) -> str:
        letters = ref.rstrip("0123456789")
        return f"${letters}${ref[len(letters):]}"
    return ":".join(absolute(ref) for ref in cell_range.split(":"))


def _package_xml(sheet_count: int, title: str) -> dict[str, str]:
    """The parts that tie the workbook together: content types, relationships, styles, properties."""
    worksheet = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
    overrides = "".join(f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{worksheet}"/>'
                        for i in range(1, sheet_count + 1))
    relationship = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    sheet_rels = "".join(f'<Relationship Id="rId{i}" Type="{relationship}/worksheet" Target="worksheets/sheet{i}.xml"/>'
                         for i in range(1, sheet_count + 1))
    created = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "[Content_Types].xml": (
            f'{XML_DECLARATION}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/styles.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            '<Override PartName="/docProps/core.xml" '
            'ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
            f'{overrides}</Types>'),
        "_rels/.rels": (
            f'{XML_DECLARATION}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{relationship}/officeDocument" Target="xl/workbook.xml"/>'
            '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/'
            'core-properties" Target="docProps/core.xml"/></Relationships>'),
        "docProps/core.xml": (
            f'{XML_DECLARATION}<cp:coreProperties '
            'xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            f'<dc:title>{escape(title)}</dc:title>'
            f'<dcterms:created xsi:type="dcterms:W3CDTF">{created}</dcterms:created></cp:coreProperties>'),
        "xl/_rels/workbook.xml.rels": (
            f'{XML_DECLARATION}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'{sheet_rels}<Relationship Id="rId{sheet_count + 1}" Type="{relationship}/styles" '
            'Target="styles.xml"/></Relationships>'),
        "xl/styles.xml": XML_DECLARATION + STYLES_XML,
    }


def write_workbook(con, path: Path, sheets: Sequence[Sheet], title: str, release: str) -> None:
    """Writes the workbook from the tables named by the sheets, read through ``con``."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL) as archive:
        for part, text in _package_xml(len(sheets) + 1, title).items():
            archive.writestr(part, text)
        archive.writestr("xl/workbook.xml", _workbook_xml(sheets))
        archive.writestr("xl/worksheets/sheet1.xml", _contents_xml(sheets, title, release))
        for number, sheet in enumerate(sheets, start=2):
            part = f"xl/worksheets/sheet{number}.xml"
            if sheet.fits:
                _write_data_sheet(con, archive, part, sheet)
            else:
                archive.writestr(part, _too_large_xml(sheet))
