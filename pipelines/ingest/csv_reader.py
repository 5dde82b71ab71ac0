"""The ГИА CSV, read in blocks of lines, never whole: a federal year has millions of rows.

A first pass over the bytes fingerprints the file, decides its encoding (UTF-8, with or without a BOM, when
all of it decodes as UTF-8, else Windows cp1251) and whether every record is one line (no quotes, no bare
CR). The header is found as in a spreadsheet: the first line among the first 30 that holds «Год».

Then the lines below the header are parsed a block at a time. A block whose lines all have the header's
number of cells is parsed by Arrow's CSV parser, and its row numbers are its line numbers. A block with
blank, short or long lines, and a file whose quoted cells may span lines, go through Python's csv module,
which counts lines as a person does. Either way a batch holds the table's cells as strings; `typed_batch`
turns them into the raw columns with the conversions the spreadsheet readers apply cell by cell.
"""

from __future__ import annotations

import codecs
import csv
import functools
import hashlib
import io
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyarrow
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from pipelines.ingest.contracts import ARROW_TEXT
from pipelines.ingest.readers import (
    HEADER_NOT_FOUND,
    HEADER_SEARCH_ROWS,
    UNREADABLE,
    ReadError,
    find_table,
    number_cell,
)

CSV_DELIMITERS = (";", "\t", ",")
BLOCK_BYTES = 16 << 20  # about 250,000 ГИА lines: the unit of parsing and of validation
HEAD_BYTES = 1 << 20  # where the header is looked for
ROWS_PER_BATCH = 250_000  # for files parsed record by record
# What Arrow casts to a number exactly as Python's float() does; anything else goes through `number_cell`.
PLAIN_NUMBER = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"


@dataclass(frozen=True)
class CsvLayout:
    sha256: str
    encoding: str  # utf-8-sig, utf-8 or cp1251
    lines_are_records: bool  # no quotes and no bare CR: a block of whole lines is a block of whole records


@dataclass(frozen=True)
class CsvHeader:
    line: int  # the header's line number
    delimiter: str
    width: int  # cells in the header line
    first_column: int  # where the table starts in it
    headers: list[str]


@dataclass
class CsvBatch:
    """Consecutive non-blank rows: one string array per table column, and each row's line number."""

    cells: list[pyarrow.Array]
    row_numbers: np.ndarray


SAVE_AS_CSV = "save it again as «CSV (разделители — точка с запятой)» in Windows-1251 or as «CSV UTF-8»"


def _check_text(head: bytes) -> None:
    """A file that is no CSV text the reader can decode, said as what it is: empty, UTF-16, a workbook."""
    if not head.strip(b" \t\r\n\xef\xbb\xbf"):
        raise ReadError(UNREADABLE.id, "is empty: it has no lines, not even a header")
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or head[:200].count(b"\x00") > 10:
        raise ReadError(
            UNREADABLE.id, f"is UTF-16 text (Excel's «Текст Юникод»), not UTF-8 or Windows-1251: {SAVE_AS_CSV}"
        )
    if head.startswith(b"PK\x03\x04") or head.startswith(b"\xd0\xcf\x11\xe0"):
        raise ReadError(UNREADABLE.id, f"is an Excel workbook under a .csv name, not a CSV text: {SAVE_AS_CSV}")


def csv_layout(path: Path) -> CsvLayout:
    """One pass over the bytes: fingerprint, encoding and whether records are lines; ReadError if undecodable."""
    digest, utf8 = hashlib.sha256(), codecs.getincrementaldecoder("utf-8")()
    is_utf8, quoted, bare_cr, bom, cp1251_error = True, False, False, None, None
    with open(path, "rb") as handle:
        _check_text(handle.read(BLOCK_BYTES))
        handle.seek(0)
        for block in iter(lambda: handle.read(BLOCK_BYTES), b""):
            digest.update(block)
            bom = block.startswith(codecs.BOM_UTF8) if bom is None else bom
            if is_utf8:
                try:
                    utf8.decode(block)
                except UnicodeDecodeError:
                    is_utf8 = False
            if b"\x98" in block and cp1251_error is None:  # the one byte cp1251 leaves undefined
                try:
                    block.decode("cp1251")
                except UnicodeDecodeError as error:
                    cp1251_error = error
            quoted = quoted or b'"' in block
            # a CR ending the block may be the first half of a CRLF split between blocks
            bare_cr = bare_cr or block.count(b"\r") - block.count(b"\r\n") > block.endswith(b"\r")
    if is_utf8:
        try:
            utf8.decode(b"", final=True)
        except UnicodeDecodeError:
            is_utf8 = False
    if not is_utf8 and (bom or cp1251_error):
        raise ReadError(
            UNREADABLE.id, f"is neither UTF-8 nor cp1251 text ({cp1251_error or 'invalid UTF-8 after a BOM'})"
        )
    encoding = ("utf-8-sig" if bom else "utf-8") if is_utf8 else "cp1251"
    return CsvLayout(digest.hexdigest(), encoding, not quoted and not bare_cr)


def csv_header(path: Path, layout: CsvLayout, first_header: str) -> CsvHeader:
    """The header line: the first of the first 30 lines with `first_header`; `;` unless the first line only
    has another delimiter."""
    with open(path, "rb") as handle:
        head = handle.read(HEAD_BYTES)
    if len(head) == HEAD_BYTES and b"\n" in head:
        head = head[: head.rindex(b"\n") + 1]  # whole lines only, so no character is cut in two
    text = head.decode(layout.encoding)
    delimiter = next((d for d in CSV_DELIMITERS if d in text.split("\n", 1)[0]), ";")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows, line_numbers = [], []
    try:
        for row in reader:
            rows.append(row)
            line_numbers.append(reader.line_num)
            if len(rows) == HEADER_SEARCH_ROWS:
                break
    except csv.Error as error:
        raise ReadError(UNREADABLE.id, f"is not a valid CSV file (line {reader.line_num}: {error})") from error
    table = find_table(rows, line_numbers, first_header, None)
    if table is None and layout.encoding == "cp1251":
        koi8 = list(csv.reader(io.StringIO(head.decode("koi8_r", errors="replace"), newline=""), delimiter=delimiter))
        if find_table(koi8[:HEADER_SEARCH_ROWS], list(range(1, len(koi8) + 1)), first_header, None) is not None:
            raise ReadError(
                UNREADABLE.id,
                f"is KOI8-R text, not UTF-8 or Windows-1251 (its header reads as "
                f"«{first_header}» only in KOI8-R): {SAVE_AS_CSV}",
            )
    if table is None:
        raise ReadError(
            HEADER_NOT_FOUND.id,
            f"no header line starting with «{first_header}» in its first {HEADER_SEARCH_ROWS} lines",
        )
    width = len(rows[line_numbers.index(table.header_row)])
    return CsvHeader(table.header_row, delimiter, width, table.first_column, table.headers)


def csv_batches(path: Path, layout: CsvLayout, header: CsvHeader) -> Iterator[CsvBatch]:
    """The rows below the header, in batches; blank rows are left out, line numbers kept."""
    batches = _line_blocks(path, layout, header) if layout.lines_are_records else _records(path, layout, header)
    for batch in batches:
        if len(batch.row_numbers):
            yield _without_blank_rows(batch)


def _line_blocks(path: Path, layout: CsvLayout, header: CsvHeader) -> Iterator[CsvBatch]:
    with open(path, "rb") as handle:
        for _ in range(header.line):
            handle.readline()
        line = header.line + 1
        while block := handle.read(BLOCK_BYTES):
            if not block.endswith(b"\n"):
                block += handle.readline()
            text = block.decode(layout.encoding)
            yield _arrow_block(text, line, header) or _python_block(text, line, header)
            line += block.count(b"\n")


def _arrow_block(text: str, first_line: int, header: CsvHeader) -> CsvBatch | None:
    """The block parsed by Arrow, or None when its lines are not all rows of the header's width."""
    names, data = [str(i) for i in range(header.width)], text.encode("utf-8")
    try:
        table = pacsv.read_csv(
            io.BytesIO(data),
            read_options=pacsv.ReadOptions(column_names=names, block_size=len(data) + 1),  # the block at once
            parse_options=pacsv.ParseOptions(delimiter=header.delimiter, quote_char=False, ignore_empty_lines=True),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pyarrow.string() for n in names}, strings_can_be_null=False
            ),
        )
    except pyarrow.ArrowInvalid:  # a line with another number of cells
        return None
    lines = text.count("\n") + (not text.endswith("\n"))
    if table.num_rows != lines:  # Arrow skipped blank lines, which would shift the line numbers
        return None
    columns = range(header.first_column, header.first_column + len(header.headers))
    return CsvBatch([table.column(i).combine_chunks() for i in columns], np.arange(first_line, first_line + lines))


def _python_block(text: str, first_line: int, header: CsvHeader) -> CsvBatch:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=header.delimiter)
    return _batch_of_rows(reader, header, first_line - 1)


def _records(path: Path, layout: CsvLayout, header: CsvHeader) -> Iterator[CsvBatch]:
    """Record by record with Python's csv module, for files whose quoted cells may hold line breaks."""
    with open(path, encoding=layout.encoding, newline="") as handle:
        reader = csv.reader(handle, delimiter=header.delimiter)
        try:
            while reader.line_num < header.line:
                next(reader)
            while batch := _batch_of_rows(reader, header, 0, ROWS_PER_BATCH):
                yield batch
        except csv.Error as error:
            raise ReadError(UNREADABLE.id, f"is not a valid CSV file (line {reader.line_num}: {error})") from error


def _batch_of_rows(reader, header: CsvHeader, line_offset: int, limit: int | None = None) -> CsvBatch | None:
    """Up to `limit` rows of the reader cut to the table's columns (short rows padded); None when it is done."""
    first, width = header.first_column, len(header.headers)
    rows, line_numbers = [], []
    for row in reader:
        rows.append(row[first : first + width] + [None] * (width - len(row[first : first + width])))
        line_numbers.append(line_offset + reader.line_num)
        if len(rows) == limit:
            break
    if not rows and limit is not None:
        return None
    cells = (
        [pyarrow.array(column, pyarrow.string()) for column in zip(*rows)]
        if rows
        else [pyarrow.array([], pyarrow.string()) for _ in range(width)]
    )
    return CsvBatch(cells, np.array(line_numbers, dtype=np.int64))


def _trimmed(values: pyarrow.Array) -> pyarrow.Array:
    """Stripped text; an empty or blank cell is NULL."""
    stripped = pc.utf8_trim_whitespace(values)
    return pc.if_else(pc.equal(stripped, ""), pyarrow.scalar(None, pyarrow.string()), stripped)


def _without_blank_rows(batch: CsvBatch) -> CsvBatch:
    filled = functools.reduce(pc.or_, [pc.is_valid(_trimmed(c)) for c in batch.cells])
    if pc.all(filled).as_py():
        return batch
    return CsvBatch([c.filter(filled) for c in batch.cells], batch.row_numbers[filled.to_numpy(zero_copy_only=False)])


# --------------------------------------------------------------------------------------------------
# Cells → raw columns


@dataclass
class TypedBatch:
    """A batch as raw columns: Arrow arrays to stage (numbers as doubles) and the frame the contract checks,
    where a cell that is not a number keeps its text so the contract can name it."""

    arrays: dict[str, pyarrow.Array]
    frame: pd.DataFrame


def typed_batch(batch: CsvBatch, positions: dict[str, int], schema: pa.DataFrameSchema) -> TypedBatch:
    arrays, frame = {}, {}
    rows = len(batch.row_numbers)
    for name, column in schema.columns.items():
        if not column.title or column.metadata.get("derived"):
            continue
        position = positions.get(name)
        cells = batch.cells[position] if position is not None else pyarrow.nulls(rows, pyarrow.string())
        if column.metadata["sql_type"] == "varchar":
            text = _trimmed(cells)
            arrays[name] = pc.utf8_lower(text) if name == "login" else text
            frame[name] = arrays[name].to_pandas(types_mapper={pyarrow.string(): ARROW_TEXT}.get)
        else:
            arrays[name], frame[name] = _numbers(cells)
    return TypedBatch(arrays, pd.DataFrame(frame))


def _numbers(cells: pyarrow.Array) -> tuple[pyarrow.Array, pd.Series]:
    """Numbers as `number_cell` reads them («12,5», «1 024»), vectorised; other text is kept in the frame."""
    text = _trimmed(cells)
    candidate = pc.replace_substring(text, ",", ".")
    plain = pc.fill_null(pc.match_substring_regex(candidate, PLAIN_NUMBER), False)
    if not pc.all(pc.or_(plain, pc.is_null(text))).as_py():  # spaces inside a number, «1 024»: rare, slower
        candidate = pc.replace_substring_regex(candidate, r"\s", "")
        plain = pc.fill_null(pc.match_substring_regex(candidate, PLAIN_NUMBER), False)
    values = pc.cast(pc.if_else(plain, candidate, pyarrow.scalar(None, pyarrow.string())), pyarrow.float64())
    numbers = values.to_numpy(zero_copy_only=False)
    odd = np.flatnonzero(
        text.is_valid().to_numpy(zero_copy_only=False) & ~(plain.to_numpy(zero_copy_only=False) & np.isfinite(numbers))
    )
    series = pd.Series(numbers)
    if len(odd):
        numbers = numbers.copy()
        typed = [number_cell(cells[int(i)].as_py()) for i in odd]
        numbers[odd] = [v if isinstance(v, float) else math.nan for v in typed]
        series = pd.Series(numbers).astype(object)
        series.iloc[odd] = typed
    return pyarrow.array(numbers, from_pandas=True), series
