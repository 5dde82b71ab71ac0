"""РЦОИ result lists («ведомости»): one CSV per exam, read unchanged, personal data dropped while reading.

A list has a title row naming the exam (`01 - Русский язык 2022.06.23`, the English
`Английский язык п:2022.06.14; у:2022.06.16`, possibly after empty cells), a header wherever it starts
with empty spacer columns anywhere, participant rows, and footer rows (`Средние`, `Минимальная граница`,
`Всего участников`). An appeals list has the same family of header plus `Тип апелляции / перепроверки |
Состояние | … | Балл до изменения | Текущие (Первичный балл, Балл)`. The layouts are declared as data in
`gia_lists.yml` (header aliases, footer labels, title patterns, subject codes): this module only applies it.

Personal data never leaves `parse_list`: the surname, name, patronymic and document columns are never
copied out of the parsed CSV rows; the document is turned into the participant code at once (HMAC-SHA256
keyed by PARTICIPANT_CODE_SALT) and the list is refused without a key. Issues name the row and the
column, never these values.

The school is the РЦОИ `Код ОО`; the login comes from the crosswalk `registry/gia_school_codes.xlsx` in dbt
(stg_gia_results), so the rows of a code not mapped yet are kept until it is mapped.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import hashlib
import hmac
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow
import yaml

from pipelines.common import SEEDS_DIR, decode_utf8_or_cp1251, parse_datetime
from pipelines.ingest import store
from pipelines.ingest.contracts import (
    ERROR,
    GIA_EXAM_TYPE,
    GIA_FOOTER_COUNT,
    GIA_MINIMUM,
    GIA_TITLE,
    LOADED_ELSEWHERE,
    NO_DOCUMENT,
    ONE_ROW_PER_KEY,
    PARTICIPANT_KEY,
    WARNING,
    gia_appeals_contract,
    gia_list_contract,
)
from pipelines.ingest.readers import (
    DUPLICATE_COLUMN,
    HEADER_NOT_FOUND,
    HEADER_SEARCH_ROWS,
    MISSING_COLUMN,
    UNREADABLE,
    ReadError,
    normalised,
    number_cell,
    text_cell,
)
from pipelines.ingest.staged import StagedFile
from pipelines.ingest.validate import Issue, location, validate

SOURCE = "gia_results"
LAYOUT_FILE = Path(__file__).with_name("gia_lists.yml")
SEED_MINIMUMS = SEEDS_DIR / "gia_min_scores.csv"
KEY_VARIABLE = "PARTICIPANT_CODE_SALT"
KEY_HELP = (
    f"set {KEY_VARIABLE} to a secret key kept the same for every run, e.g. "
    f"`export {KEY_VARIABLE}=$(python -c 'import secrets; print(secrets.token_hex(32))')` "
    "(docs/inputs.md, «ГИА»)"
)
DATE_FORMATS = ("%Y.%m.%d", "%d.%m.%Y")
DOCUMENT_COLUMN = "Документ"


@dataclass(frozen=True)
class ListLayout:
    """gia_lists.yml, compiled."""

    anchor: tuple[str, ...]
    aliases: dict[str, str]  # normalised header → field
    personal: frozenset[str]
    document_fields: tuple[str, ...]
    groups: dict[str, dict[str, str]]  # normalised group header → normalised sub-header → field
    kinds: dict[str, tuple[str, ...]]
    footers: dict[str, str]  # normalised label → footer kind
    titles: tuple[re.Pattern, ...]
    exam_words: tuple[tuple[str, str], ...]  # (word, exam type), in order
    subjects: dict[int, dict[str, Any]]
    subject_names: dict[str, int]  # normalised name or alias → code


@functools.cache
def list_layout() -> ListLayout:
    spec = yaml.safe_load(LAYOUT_FILE.read_text(encoding="utf-8"))
    aliases, personal, documents = {}, set(), []
    for name, declared in spec["fields"].items():
        for header in declared["headers"]:
            aliases[normalised(header)] = name
        if declared.get("personal"):
            personal.add(name)
        if declared.get("document"):
            documents.append(name)
    groups = {}
    for declared in spec["groups"].values():
        sub = {normalised(h): f for f, headers in declared["fields"].items() for h in headers}
        for header in declared["headers"]:
            groups[normalised(header)] = sub
    subjects = {int(code): value for code, value in spec["subjects"].items()}
    names = {}
    for code, value in subjects.items():
        for name in [value["name"], value.get("ege_name"), *value.get("aliases", [])]:
            if name:
                names.setdefault(normalised(name), code)
    return ListLayout(
        anchor=tuple(normalised(h) for h in spec["anchor"]),
        aliases=aliases,
        personal=frozenset(personal),
        document_fields=tuple(documents),
        groups=groups,
        kinds={kind: tuple(v["requires"]) for kind, v in spec["kinds"].items()},
        footers={normalised(label): kind for kind, labels in spec["footer"].items() for label in labels},
        titles=tuple(re.compile(pattern) for pattern in spec["titles"]),
        exam_words=tuple((word, exam) for exam, words in spec["exam_type_words"].items() for word in words),
        subjects=subjects,
        subject_names=names,
    )


# --------------------------------------------------------------------------------------------------
# Reading


@dataclass
class ParsedList:
    """What a list holds, without its personal columns."""

    kind: str  # results or appeals
    exam_type: str
    subject_code: int
    subject_name: str
    exam_date: dt.date
    exam_date_oral: dt.date | None
    frame: pd.DataFrame  # one row per participant: the fields kept, participant_code, _row_number
    footer: dict[str, tuple[int, float | None]] = field(default_factory=dict)  # kind → (line, first number)
    header_line: int = 0
    document_columns: tuple[str, ...] = ()  # the fields the codes were derived from (their values are gone)

    @property
    def year(self) -> int:
        return self.exam_date.year


def _decode(data: bytes) -> str:
    try:
        return decode_utf8_or_cp1251(data)
    except UnicodeDecodeError as error:
        raise ReadError(UNREADABLE.id, f"is neither UTF-8 nor cp1251 text ({error})") from error


def _csv_rows(text: str, limit: int | None = None) -> list[tuple[int, list[str]]]:
    first = text.split("\n", 1)[0]
    delimiter = next((d for d in (";", "\t") if d in first), ";")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows = []
    try:
        for row in reader:
            rows.append((reader.line_num, row))
            if limit and len(rows) >= limit:
                break
    except csv.Error as error:
        raise ReadError(UNREADABLE.id, f"is not a valid CSV file (line {reader.line_num}: {error})") from error
    return rows


def _header_index(rows: list[tuple[int, list[str]]]) -> int | None:
    anchor = set(list_layout().anchor)
    for index, (_, row) in enumerate(rows[:HEADER_SEARCH_ROWS]):
        if anchor <= {normalised(cell) for cell in row if cell and cell.strip()}:
            return index
    return None


def looks_like_list(path: Path) -> bool:
    """Whether a CSV file is a РЦОИ list (its header holds `№` and `Код ОО`), from its first lines."""
    with open(path, "rb") as handle:
        head = handle.read(64 << 10)
    try:
        text = _decode(head if len(head) < 64 << 10 else head[: head.rfind(b"\n") + 1])
        return _header_index(_csv_rows(text, HEADER_SEARCH_ROWS)) is not None
    except ReadError:
        return False


def _date(text: str) -> dt.date:
    parsed = parse_datetime(text, DATE_FORMATS)
    if parsed is not None:
        return parsed.date()
    raise ReadError(GIA_TITLE.id, f"the date «{text}» in the title row is not a date")


def _title(rows: list[tuple[int, list[str]]]) -> tuple[int, re.Match] | None:
    for line, row in rows:
        for cell in row:
            text = " ".join(cell.split())
            if not text:
                continue
            for pattern in list_layout().titles:
                match = pattern.match(text)
                if match:
                    return line, match
    return None


def _subject(match: re.Match) -> tuple[int, str]:
    layout = list_layout()
    subject = " ".join(match["subject"].split())
    code = match.groupdict().get("code")
    if code is not None:
        return int(code), subject
    found = layout.subject_names.get(normalised(subject))
    if found is None:
        raise ReadError(
            GIA_TITLE.id,
            f"the title names the subject «{subject}» without a code, and "
            "pipelines/ingest/gia_lists.yml lists no subject of that name",
        )
    return found, subject


def _exam_word(text: str) -> str | None:
    tokens = set(re.split(r"[^0-9A-Za-zА-Яа-яЁё-]+", text.casefold()))
    for word, exam in list_layout().exam_words:
        if word.casefold() in tokens or (not word.isascii() and word.casefold() in text.casefold()):
            return exam
    return None


def _exam_type(file: str, above: list[tuple[int, list[str]]], code: int, fields: set[str]) -> str:
    """ОГЭ/ЕГЭ/ГВЭ from the title rows, the subject code and the columns, the file name as the fallback."""
    title_text = " ".join(cell for _, row in above for cell in row if cell)
    named = _exam_word(title_text)
    subject = list_layout().subjects.get(code, {})
    has_test_score = bool(fields & {"test_score", "test_score_after"})
    implied = "ЕГЭ" if subject.get("ege_only") or has_test_score else None
    if named and implied and named != implied:
        why = (
            f"subject code {code:02d} is held only as ЕГЭ"
            if subject.get("ege_only")
            else "it has a test-score column («Балл»), which only ЕГЭ lists have"
        )
        raise ReadError(GIA_EXAM_TYPE.id, f"the title says {named} but {why}")
    exam = named or implied or _exam_word(Path(file).name.replace("_", " "))
    if exam is None:
        raise ReadError(
            GIA_EXAM_TYPE.id,
            (
                f"the exam type cannot be told: the title names no ОГЭ, ЕГЭ or ГВЭ, subject code {code:02d} is used "
                "in more than one of them, the list has marks but no test-score column, and the file name says "
                "nothing either; add the exam type to the title row (e.g. «ОГЭ») or the file name (e.g. «…_oge.csv»)"
            ),
        )
    return exam


def _columns(rows: list[tuple[int, list[str]]], header_index: int) -> tuple[dict[str, int], int]:
    """Field → position, from the header row and, for grouped headers, the sub-header row below it.
    Returns the positions and the index of the first row below the header (and sub-header)."""
    layout = list_layout()
    line, header = rows[header_index]
    positions: dict[str, int] = {}

    def put(name: str, position: int, shown: str) -> None:
        if name in positions:
            raise ReadError(DUPLICATE_COLUMN.id, f"column «{shown}» appears twice in the header row {line}")
        positions[name] = position

    group_at: dict[int, dict[str, str]] = {}
    for position, cell in enumerate(header):
        key = normalised(cell) if cell else ""
        if key in layout.groups:
            group_at[position] = layout.groups[key]
        elif key in layout.aliases:
            put(layout.aliases[key], position, cell.strip())
    body = header_index + 1
    if group_at and body < len(rows):
        _, sub = rows[body]
        cells = [(p, c) for p, c in enumerate(sub) if c and c.strip()]
        if cells and not (sub[0] or "").strip():
            for position, cell in cells:
                owner = max((p for p in group_at if p <= position), default=None)
                name = None if owner is None else group_at[owner].get(normalised(cell))
                if name:
                    put(name, position, cell.strip())
            body += 1
    return positions, body


def document_text(series: str | None, number: str | None, whole: str | None) -> str | None:
    """A document as one key: digits and letters only, upper case («1111 222222» → «1111222222»)."""
    text = whole if whole is not None else "".join(part for part in (series, number) if part)
    text = re.sub(r"[\W_]+", "", text or "").upper()
    return text or None


def participant_code(document: str, key: str) -> str:
    """HMAC-SHA256 of the document keyed by PARTICIPANT_CODE_SALT, first 16 hex digits."""
    return hmac.new(key.encode(), document.encode(), hashlib.sha256).hexdigest()[:16]


def parse_list(file: str, data: bytes, key: str | None) -> ParsedList:
    """Reads a list; raises ReadError when it cannot be read as one (messages never quote personal cells)."""
    layout = list_layout()
    rows = _csv_rows(_decode(data))
    header_index = _header_index(rows)
    if header_index is None:
        listed = " and ".join(f"«{h}»" for h in ("№", "Код ОО"))
        raise ReadError(HEADER_NOT_FOUND.id, f"no header row with {listed} in its first {HEADER_SEARCH_ROWS} lines")
    header_line = rows[header_index][0]
    positions, body = _columns(rows, header_index)
    fields = set(positions)
    kind = next((k for k, required in layout.kinds.items() if set(required) <= fields), None)
    if kind is None:
        raise ReadError(
            MISSING_COLUMN.id,
            f"the header row {header_line} has no column «Первичный балл» (a result "
            "list) nor «Тип апелляции / перепроверки» and «Балл до изменения» (appeals)",
        )
    title = _title(rows[:header_index])
    if title is None:
        raise ReadError(
            GIA_TITLE.id, f"no title row such as «01 - Русский язык 2022.06.23» above the header (line {header_line})"
        )
    _, match = title
    code, subject_name = _subject(match)
    exam_type = _exam_type(file, rows[:header_index], code, fields)
    exam_date = _date(match["date"])
    oral = match.groupdict().get("date_oral")

    documents = tuple(f for f in layout.document_fields if f in positions)
    if not documents:
        raise ReadError(
            NO_DOCUMENT.id,
            f"the header row {header_line} has no document column («Документ», or "
            "«Серия» and «Номер»): participants cannot be given codes",
        )
    if not key:
        raise ReadError(
            PARTICIPANT_KEY.id,
            f"carries participants' documents, and no key is set to turn them into pseudonymous codes: {KEY_HELP}",
        )
    kept = {
        name: position
        for name, position in positions.items()
        if name not in layout.personal and name not in ("line_number",)
    }
    values: dict[str, list] = {name: [] for name in kept}
    codes, lines, footer = [], [], {}
    for line, row in rows[body:]:
        cells = [(c or "").strip() for c in row]
        filled = [c for c in cells if c]
        if not filled:
            continue
        label = layout.footers.get(normalised(filled[0]))
        if label is not None:
            numbers = [v for v in (number_cell(c) for c in filled[1:]) if isinstance(v, float)]
            footer[label] = (line, numbers[0] if numbers else None)
            continue

        def cell(name: str, row: list = cells) -> str | None:
            position = positions.get(name)
            return text_cell(row[position]) if position is not None and position < len(row) else None

        document = document_text(cell("document_series"), cell("document_number"), cell("document"))
        codes.append(participant_code(document, key) if document else None)
        lines.append(line)
        for name in kept:
            values[name].append(cell(name))
        del document  # the document itself goes no further than this row
    frame = pd.DataFrame({**values, "participant_code": codes, "_row_number": lines})
    for name in (
        "percent_complete",
        "primary_score",
        "primary_score_oral",
        "primary_score_written",
        "test_score",
        "mark",
        "score_before",
        "primary_score_after",
        "test_score_after",
        "mark_after",
        "score_difference",
    ):
        if name in frame:
            frame[name] = frame[name].map(number_cell).astype(object)
    return ParsedList(
        kind,
        exam_type,
        code,
        subject_name,
        exam_date,
        _date(oral) if oral else None,
        frame,
        footer,
        header_line,
        documents,
    )


# --------------------------------------------------------------------------------------------------
# Checking and staging


@functools.cache
def configured_minimums() -> dict[tuple[int, str, int], tuple[float | None, float | None]]:
    """(year, exam type, subject code) → (minimum test score, minimum mark) from the dbt seed."""
    frame = pd.read_csv(SEED_MINIMUMS)
    return {
        (int(r.year), r.exam_type, int(r.subject_code)): (
            None if pd.isna(r.min_test_score) else float(r.min_test_score),
            None if pd.isna(r.min_mark) else float(r.min_mark),
        )
        for r in frame.itertuples()
    }


def _footer_issues(file: str, parsed: ParsedList) -> list[Issue]:
    issues = []
    line, minimum = parsed.footer.get("minimum", (None, None))
    if minimum is not None:
        configured = configured_minimums().get((parsed.year, parsed.exam_type, parsed.subject_code))
        uses_test = "test_score" in parsed.frame
        expected = None if configured is None else configured[0 if uses_test else 1]
        exam = f"{parsed.exam_type} {parsed.subject_code:02d} ({parsed.subject_name}) {parsed.year}"
        if configured is None:
            message = (
                f"«Минимальная граница» {minimum:g}: no minimum is configured for {exam} in "
                "dbt_project/seeds/gia_min_scores.csv (an exam not held that year gives no result)"
            )
        elif expected != minimum:
            message = (
                f"«Минимальная граница» {minimum:g} differs from the configured minimum "
                f"{'none' if expected is None else f'{expected:g}'} for {exam} (dbt_project/seeds/gia_min_scores.csv);"
                " the configured one is used"
            )
        else:
            message = None
        if message:
            issues.append(
                Issue(
                    SOURCE,
                    file,
                    None,
                    line,
                    None,
                    f"{minimum:g}",
                    GIA_MINIMUM.id,
                    WARNING,
                    f"{location(file, None, line, None)}: {message}",
                )
            )
    line, total = parsed.footer.get("participants", (None, None))
    if total is not None and total != len(parsed.frame):
        issues.append(
            Issue(
                SOURCE,
                file,
                None,
                line,
                None,
                f"{total:g}",
                GIA_FOOTER_COUNT.id,
                WARNING,
                f"{location(file, None, line, None)}: «Всего участников» {total:g} differs from the "
                f"{len(parsed.frame)} participant row(s) of the list",
            )
        )
    return issues


def _duplicates(file: str, frame: pd.DataFrame) -> list[Issue]:
    """A second row for one document in the list: named by line and column, never by the document."""
    coded = frame[frame["participant_code"].notna()]
    first = coded.groupby("participant_code")["_row_number"].transform("min")
    return [
        Issue(
            SOURCE,
            file,
            None,
            int(line),
            DOCUMENT_COLUMN,
            None,
            ONE_ROW_PER_KEY.id,
            ERROR,
            f"{location(file, None, int(line), DOCUMENT_COLUMN)}: the same document as line {int(head)} "
            "(a second row for one participant)",
        )
        for line, head in zip(coded["_row_number"], first)
        if line != head
    ]


RESULT_CONSTANTS = ("year", "exam_type", "subject_code", "subject_name", "exam_date")


def _rows_table(con, parsed: ParsedList, frame: pd.DataFrame, table: str) -> pyarrow.Table:
    """The kept rows with the raw table's columns (those a list does not fill are NULL)."""
    constants = {
        "year": parsed.year,
        "exam_type": parsed.exam_type,
        "subject_code": parsed.subject_code,
        "subject_name": parsed.subject_name,
        "exam_date": parsed.exam_date,
    }
    if table == "gia_results":
        constants |= {"min_score": parsed.footer.get("minimum", (None, None))[1], "form": "экзамен"}
    frame = frame.assign(**constants)
    if "retake" in frame:
        frame["is_retake"] = frame["retake"].map(lambda v: None if v is None else float(str(v) in ("1", "да", "Да")))
    columns = [(name, sql_type) for name, sql_type in store.raw_columns(con, table) if not name.startswith("_")]
    arrays, names = [], []
    for name, sql_type in columns:
        values = frame[name] if name in frame else pd.Series([None] * len(frame), dtype=object)
        if sql_type == "DATE":
            arrays.append(pyarrow.array(values.tolist(), type=pyarrow.date32()))
        else:
            arrays.append(store.arrow_rows(pd.DataFrame({name: values.astype(object)}), [(name, sql_type)]).column(0))
        names.append(name)
    for name in ("_source_file", "_row_number"):
        arrays.append(pyarrow.array(frame[name].tolist()))
        names.append(name)
    return pyarrow.Table.from_arrays(arrays, names=names)


def check_gia_list(con, file: str, path: Path, key: str | None, row_level: bool, loaded_at: dt.datetime) -> StagedFile:
    """Reads and checks a РЦОИ list; raises ReadError when it cannot be read as one."""
    data = path.read_bytes()
    sha256 = hashlib.sha256(data).hexdigest()
    parsed = parse_list(file, data, key)
    table = "gia_results" if parsed.kind == "results" else "gia_appeals"
    schema = gia_list_contract() if parsed.kind == "results" else gia_appeals_contract()
    frame = parsed.frame.assign(_source_file=file, _sheet=None)
    columns = [c for c in schema.columns if c in frame]
    validation = validate(frame[[*columns, "_source_file", "_sheet", "_row_number"]], schema, SOURCE)
    for issue in _duplicates(file, frame) + _footer_issues(file, parsed):
        validation.add_issue(issue)
    if parsed.kind == "results" and len(frame):
        for issue in _loaded_elsewhere(con, file, parsed, frame):
            validation.add_issue(issue)
    rejected = {row for f, row in validation.rejected_rows if f == file}
    keep = ~frame["_row_number"].isin(rejected)
    if not row_level and validation.errors[file]:
        keep &= False
    rows = _rows_table(con, parsed, frame[keep], table)

    def insert(connection) -> None:
        with store.registered(connection, _gia_list_rows=rows):
            names = ", ".join(rows.column_names)
            if table != "gia_results":  # the load's own delete only covers raw.gia_results
                connection.execute(f"delete from raw.{table} where _source_file = ?", [file])
            connection.execute(
                f"insert into raw.{table} ({names}, _sheet, _file_sha256, _loaded_at) "
                f"select {names}, null, ?, ? from _gia_list_rows",
                [sha256, loaded_at],
            )

    return StagedFile(sha256, validation, len(frame), int((~keep).sum()), insert, lambda connection: None)


def _loaded_elsewhere(con, file: str, parsed: ParsedList, frame: pd.DataFrame) -> list[Issue]:
    """Participants of the same exam and day already loaded from another list (the same list twice)."""
    codes = pyarrow.table(
        {
            "participant_code": frame["participant_code"].astype(object).tolist(),
            "_row_number": frame["_row_number"].tolist(),
        }
    )
    with store.registered(con, _gia_list_codes=codes):
        matches = con.execute(
            """
            select c._row_number, r._source_file, r._row_number
            from _gia_list_codes c join raw.gia_results r using (participant_code)
            where r.year = ? and r.exam_type = ? and r.subject_code = ? and r.exam_date = ? and r._source_file <> ?
            order by c._row_number""",
            [parsed.year, parsed.exam_type, parsed.subject_code, parsed.exam_date, file],
        ).fetchall()
    return [
        Issue(
            SOURCE,
            file,
            None,
            line,
            DOCUMENT_COLUMN,
            None,
            LOADED_ELSEWHERE.id,
            ERROR,
            f"{location(file, None, line, DOCUMENT_COLUMN)}: this participant's result of the same exam and "
            f"day is already loaded from {location(other, None, other_line, None)}",
        )
        for line, other, other_line in matches
    ]


def list_year(path: Path) -> int | None:
    """The year in a list's title row, for its campaign; None when the file is not a readable list."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(64 << 10)
        rows = _csv_rows(_decode(head[: head.rfind(b"\n") + 1] if len(head) == 64 << 10 else head), HEADER_SEARCH_ROWS)
        index = _header_index(rows)
        title = _title(rows[:index]) if index is not None else None
        return _date(title[1]["date"]).year if title else None
    except (ReadError, OSError):
        return None
