"""ВПР participant files in every layout of `vpr_layouts.yml`, mapped onto the one participant contract.

A workbook is recognised by its content: the first sheet with a header row that holds every column a
layout identifies itself by. The year, work and school come from the title block, the sheet name, a
column or the file's folder and name, as the layout declares; task maxima from the task headers
(`3 (2б)`) or, where the file has none, from the work's task list of the year. A file whose tasks
disagree with the configured work of its year is not read: converting it with another year's scale
would publish wrong marks.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from pipelines.ingest.campaigns import vpr_path_year
from pipelines.ingest.contracts import RULES, SEXES, WARNING, rule
from pipelines.ingest.readers import (
    HEADER_SEARCH_ROWS,
    LOGIN_IN_TEXT,
    ParsedFile,
    ReadError,
    Workbook,
    _as_is,
    _sheet_rows,
    close_to,
    login_cell,
    normalised,
    number_cell,
    text_cell,
)
from pipelines.ingest.validate import Issue, location
from pipelines.ingest.works import WorkSpec, configured_years, work_spec

LAYOUTS_FILE = Path(__file__).with_name("vpr_layouts.yml")
WORK_CODE_IN_NAME = re.compile(r"(?<![a-z])([a-z]{2})(\d{1,2})(?![a-z0-9])")
GRADE_IN_NAME = re.compile(r"(?<!\d)(\d{1,2})\s*-?\s*(?:й\s*)?класс")
TITLE = re.compile(r"впр\s+(?P<year>\d{4})\s+(?P<subject>.+?)\s+(?P<grade>\d{1,2})\s+класс")
SHEET = re.compile(r"^(?P<abbreviation>[а-я]{2})\s*(?P<grade>\d{1,2})(?!\d)")
REQUIRED_ROLES = ("participant_code", "primary_score")

NO_LAYOUT = rule(
    "vpr_layout", "a ВПР layout of docs/inputs.md (header row with the columns it is recognised by)", _as_is
)
VPR_CONTEXT = rule("vpr_context", "the year, work and school of the file can be determined", _as_is)
WORK_NOT_CONFIGURED = rule(
    "work_not_configured", "a work configured for its year in dbt_project/seeds/vpr_works.csv", _as_is
)
TASK_LIST = rule("task_list", "the tasks and maxima of the work configured for the year (seed vpr_tasks.csv)", _as_is)
YEAR_OF_WORK_IN_NAME = re.compile(r"впр\W{0,3}((?:19|20)\d\d)(?!\d)")
YEAR_OF_FOLDER = rule("year_of_folder", "the year in the file agrees with its folder vpr/<YYYY>/", _as_is)
BEYOND_HEADER = rule("beyond_header", "no cells to the right of the last header", _as_is, severity=WARNING)
SECOND_SHEET = rule("second_sheet", "one sheet of results per workbook", _as_is, severity=WARNING)
GROUP_COUNT = rule(
    "group_count", "a school's rows match the participants its group row announces", _as_is, severity=WARNING
)


@dataclass(frozen=True)
class Subject:
    code: str
    name: str
    abbreviation: str
    words: tuple[str, ...]


@dataclass(frozen=True)
class Layout:
    id: str
    name: str
    identify: tuple[str, ...]
    columns: dict[str, tuple[re.Pattern, ...]]
    tasks: re.Pattern
    year: tuple[str, ...]
    work: tuple[str, ...]
    school_from: str
    many_schools: bool
    group_row: re.Pattern | None
    not_attempted: frozenset[str]

    def role_of(self, header: str) -> str | None:
        for role, patterns in self.columns.items():
            if any(pattern.fullmatch(header) for pattern in patterns):
                return role
        return None


@dataclass(frozen=True)
class Vocabulary:
    layouts: tuple[Layout, ...]
    subjects: tuple[Subject, ...]
    absent: frozenset[str]
    no_journal_mark: frozenset[str]
    no_class: frozenset[str]

    def subject_in(self, text: str) -> Subject | None:
        """The subject whose name or word stem is in the (normalised) text."""
        for subject in self.subjects:
            if any(word in text for word in subject.words) or normalised(subject.name) in text:
                return subject
        return None

    def subject_coded(self, code: str) -> Subject | None:
        return next((s for s in self.subjects if s.code == code.upper()), None)

    def subject_abbreviated(self, abbreviation: str) -> Subject | None:
        return next((s for s in self.subjects if normalised(s.abbreviation) == abbreviation), None)


def _words(values) -> frozenset[str]:
    return frozenset(normalised(v) for v in values)


@functools.cache
def vocabulary() -> Vocabulary:
    """The declared layouts and value tables, read once per process."""
    data = yaml.safe_load(LAYOUTS_FILE.read_text(encoding="utf-8"))
    values = data["values"]
    layouts = tuple(
        Layout(
            id=entry["id"],
            name=entry["name"],
            identify=tuple(entry["identify"]),
            columns={
                role: tuple(re.compile(normalised(alias)) for alias in aliases)
                for role, aliases in entry["columns"].items()
            },
            tasks=re.compile(entry["tasks"]),
            year=tuple(entry["year"]),
            work=tuple(entry["work"]),
            school_from=entry["school_from"],
            many_schools=entry["many_schools"],
            group_row=re.compile(entry["group_row"]) if entry.get("group_row") else None,
            not_attempted=_words([*values["not_attempted"], *entry.get("not_attempted", [])]),
        )
        for entry in data["layouts"]
    )
    subjects = tuple(Subject(s["code"], s["name"], s["abbreviation"], tuple(s["words"])) for s in data["subjects"])
    return Vocabulary(
        layouts, subjects, _words(values["absent"]), _words(values["no_journal_mark"]), _words(values["no_class"])
    )


# --------------------------------------------------------------------------------------------------
# Recognising the layout


@dataclass
class Header:
    layout: Layout
    row: int  # index in the sheet's rows
    positions: dict[str, int]  # role → column
    tasks: list[tuple[int, str, int | None]]  # (column, header as written, maximum in the header)
    headers: list[str]
    width: int  # columns up to the last non-empty header


class _DuplicateColumn(Exception):
    """Two header cells name the same column (positions of both)."""


def _match_header(layout: Layout, cells: list[Any], row: int, where: str) -> Header | None:
    headers = tuple(" ".join(str(c).split()) if c is not None else "" for c in cells)
    try:
        return _header_of(vocabulary().layouts.index(layout), headers, row)
    except _DuplicateColumn as duplicate:
        first, second = duplicate.args
        raise ReadError(
            RULES["duplicate_column"].id,
            f"{where}: columns «{headers[first]}» and «{headers[second]}» are the same column",
        ) from None


# Thousands of forms of one campaign share a few header rows: each is matched once per process. A failed match
# raises, and exceptions are not cached, so a bad header is reported for every file that has it.
@functools.lru_cache(maxsize=4096)
def _header_of(layout_index: int, headers: tuple[str, ...], row: int) -> Header | None:
    layout = vocabulary().layouts[layout_index]
    keys = [normalised(h) for h in headers]
    roles: dict[str, int] = {}
    tasks = []
    for column, key in enumerate(keys):
        if not key:
            continue
        task = layout.tasks.fullmatch(key)
        if task:
            maximum = task.groupdict().get("max")
            tasks.append((column, headers[column], int(maximum) if maximum else None))
            continue
        role = layout.role_of(key)
        if role is None:
            continue
        if role in roles:
            raise _DuplicateColumn(roles[role], column)
        roles[role] = column
    if not all(role in roles for role in layout.identify) or not tasks:
        return None
    width = max(i for i, key in enumerate(keys) if key) + 1
    task_columns = {column for column, _, _ in tasks}
    absent = [
        re.sub(r"[\\^$()?*+\[\]|]", "", pattern.pattern)
        for role, patterns in layout.columns.items()
        if role not in roles
        for pattern in patterns
    ]
    for column, key in enumerate(keys):
        if key and column not in task_columns and column not in roles.values():
            close_to(headers[column], absent, row + 1)
    return Header(layout, row, roles, tasks, list(headers), width)


def _find_header(rows: list[list[Any]], sheet: str) -> Header | None:
    """The first declared layout whose header row is among the sheet's first rows."""
    filled = [sum(1 for c in cells if isinstance(c, str) and c.strip()) for cells in rows[:HEADER_SEARCH_ROWS]]
    for layout in vocabulary().layouts:
        for r, cells in enumerate(rows[:HEADER_SEARCH_ROWS]):
            if filled[r] < len(layout.identify):
                continue
            header = _match_header(layout, cells, r, f"sheet «{sheet}», row {r + 1}")
            if header:
                return header
    return None


def _open(data: bytes) -> Workbook:
    return Workbook(data)


# --------------------------------------------------------------------------------------------------
# Year, work and school


@dataclass
class Context:
    year: int
    subject: Subject
    grade: int
    login: str | None  # None when each row names its school


def _from_path(path: str) -> dict[str, Any]:
    """What the folder and file name say: year folder, login, work code or subject and grade."""
    vocab = vocabulary()
    pure = PurePosixPath(path)
    name, folders = normalised(pure.stem.replace("_", " ")), [normalised(p.replace("_", " ")) for p in pure.parts[1:-1]]
    facts: dict[str, Any] = {"year": vpr_path_year(path)}
    for text in [name, *reversed(folders)]:
        login = LOGIN_IN_TEXT.search(text)
        if login and "login" not in facts:
            facts["login"] = login[1]
        code = next((m for m in WORK_CODE_IN_NAME.finditer(text) if vocab.subject_coded(m[1])), None)
        if code and "subject" not in facts:
            facts["subject"], facts["grade"] = vocab.subject_coded(code[1]), int(code[2])
    if "subject" not in facts:
        for text in [name, *reversed(folders)]:
            subject = vocab.subject_in(text)
            if subject:
                facts["subject"] = subject
                break
        for text in [name, *reversed(folders)]:
            grade = GRADE_IN_NAME.search(text)
            if grade:
                facts["grade"] = int(grade[1])
                break
        else:
            grade_folder = next((int(f) for f in reversed(folders) if f.isdigit() and 1 <= int(f) <= 11), None)
            if grade_folder:
                facts["grade"] = grade_folder
    return facts


def _from_title(above: list[list[Any]]) -> dict[str, Any]:
    for cells in above:
        for cell in cells:
            match = TITLE.search(normalised(cell)) if isinstance(cell, str) else None
            if match:
                subject = vocabulary().subject_in(match["subject"])
                return {
                    "year": int(match["year"]),
                    "grade": int(match["grade"]),
                    **({"subject": subject} if subject else {}),
                }
    return {}


def _from_sheet(sheet: str) -> dict[str, Any]:
    match = SHEET.match(normalised(sheet))
    subject = vocabulary().subject_abbreviated(match["abbreviation"]) if match else None
    return {"subject": subject, "grade": int(match["grade"])} if subject else {}


def _context(path: str, header: Header, sheet: str, above: list[list[Any]]) -> Context:
    layout = header.layout
    found = {"path": _from_path(path), "title": _from_title(above), "sheet": _from_sheet(sheet)}
    folder_year = found["path"]["year"]
    if folder_year is None:
        raise ReadError(
            VPR_CONTEXT.id,
            "the year is not in the file's place: put it under vpr/<YYYY>/ (the year of the work), e.g. vpr/2023/…",
        )
    year = next((found[s]["year"] for s in layout.year if found[s].get("year")), None)
    if year != folder_year:
        raise ReadError(
            YEAR_OF_FOLDER.id,
            f"the title says ВПР {year}, but the file is under the folder of {folder_year}: move it to vpr/{year}/",
        )
    named = YEAR_OF_WORK_IN_NAME.search(normalised(PurePosixPath(path).name))
    if named and int(named[1]) != folder_year:  # «Проведение работы по …, 5 класс. ВПР 2021.xlsx» under vpr/2022/
        raise ReadError(
            YEAR_OF_FOLDER.id,
            f"the file name says ВПР {named[1]}, but the file is under the folder of "
            f"{folder_year}: move it to vpr/{named[1]}/",
        )
    work_source = next((s for s in layout.work if found[s].get("subject") and found[s].get("grade")), None)
    if work_source is None:
        missing = [
            what
            for what, key in (("the subject", "subject"), ("the grade", "grade"))
            if not any(found[s].get(key) for s in layout.work)
        ]
        raise ReadError(
            VPR_CONTEXT.id,
            f"could not tell {' and '.join(missing)} of the work from "
            f"{', '.join(_SOURCE_NAMES[s] for s in layout.work)}: name the file after the work, "
            "e.g. «Математика 5 класс.xlsx» or «…_MA5.xlsx»",
        )
    login = None
    if layout.school_from == "path":
        login = found["path"].get("login")
        if login is None:
            raise ReadError(
                VPR_CONTEXT.id,
                "a form of one school does not name its school: put its ФИС ОКО login "
                "in the folder or file name, e.g. "
                "vpr/2023/sch860001/Математика 5 класс.xlsx",
            )
    work = found[work_source]
    return Context(year, work["subject"], work["grade"], login)


_SOURCE_NAMES = {"title": "the title rows", "sheet": "the sheet name", "path": "the folder and file name"}


def configured_work(work_code: str, year: int, to_extend: str) -> WorkSpec:
    """The work as the seeds configure it for the year; ReadError naming what to add when they do not."""
    spec = work_spec(work_code, year)
    if spec is None:
        years = configured_years(work_code)
        known = f"configured for {', '.join(years)} only" if years else "not configured for any year"
        raise ReadError(
            WORK_NOT_CONFIGURED.id,
            f"work {work_code} is {known}: add its {year} scale to "
            f"dbt_project/seeds/vpr_works.csv{to_extend} to load this file",
        )
    return spec


def _check_tasks(header: Header, work_code: str, year: int) -> tuple[int, ...]:
    """The task maxima of the file, checked against the work configured for the year."""
    spec = configured_work(work_code, year, " and its tasks to vpr_tasks.csv")
    in_file = [maximum for _, _, maximum in header.tasks]
    if len(in_file) != len(spec.task_max) or (None not in in_file and tuple(in_file) != spec.task_max):
        shown_file = (
            "maxima not in the file"
            if None in in_file
            else f"maxima {', '.join(map(str, in_file))} (sum {sum(in_file)})"
        )
        raise ReadError(
            TASK_LIST.id,
            f"the file has {len(in_file)} tasks, {shown_file}; work "
            f"{work_code} of {year} is configured ({spec.versions}) with {len(spec.task_max)} tasks, "
            f"maxima {', '.join(map(str, spec.task_max))} (sum {spec.max_primary_score}). "
            f"If the file is right, extend dbt_project/seeds/vpr_tasks.csv and vpr_works.csv for {year}",
        )
    return spec.task_max


# --------------------------------------------------------------------------------------------------
# Rows


def _word(value: Any) -> str | None:
    return normalised(value) if isinstance(value, str) and value.strip() else None


@functools.lru_cache(maxsize=65536)  # a task cell holds one of a few dozen texts: «1», «X», «не пройд.»
def _score(value: Any, not_attempted: frozenset[str]) -> Any:
    return None if _word(value) in not_attempted else number_cell(value)


def read_vpr_workbook(path: str, data: bytes, *, configured: bool = True) -> ParsedFile:
    """Reads a ВПР participant workbook of any declared layout; raises ReadError when it cannot be read.

    `configured=False` reads a work the seeds do not configure, with the maxima its headers give (or none),
    to look at a file; ingestion always checks the work."""
    workbook = _open(data)
    found = []
    for sheet in workbook.sheet_names:
        rows = _sheet_rows(workbook, sheet)
        header = _find_header(rows, sheet)
        if header:
            found.append((sheet, rows, header))
    if not found:
        from pipelines.ingest.vpr_reports import is_report  # that module builds on this one

        report = is_report(data)
        if report:
            raise ReadError(
                NO_LAYOUT.id,
                f"this is the ФИС ОКО report «{report}», not participant results: "
                "put it under vpr_reports/ (e.g. vpr_reports/<YYYY>/), where reports are read",
            )
        raise ReadError(
            NO_LAYOUT.id,
            "no sheet has the header row of a ВПР layout (docs/inputs.md): "
            "none of its first rows holds a participant code, a variant and a total",
        )
    sheet, rows, header = found[0]
    return _read_sheet(path, sheet, rows, header, [other for other, _, _ in found[1:]], configured)


def _read_sheet(
    path: str, sheet: str, rows: list[list[Any]], header: Header, other_sheets: list[str], configured: bool
) -> ParsedFile:
    layout, vocab = header.layout, vocabulary()
    missing = [role for role in REQUIRED_ROLES if role not in header.positions]
    if missing:
        raise ReadError(
            RULES["missing_column"].id,
            f"the header row {header.row + 1} ({layout.name}) has no column for {', '.join(missing)}",
        )
    context = _context(path, header, sheet, rows[: header.row])
    work_code = f"{context.subject.code}{context.grade}"
    task_max = (
        _check_tasks(header, work_code, context.year)
        if configured
        else tuple(maximum or 0 for _, _, maximum in header.tasks)
    )
    p = header.positions
    task_columns = [column for column, _, _ in header.tasks]
    issues: list[Issue] = [
        Issue("vpr_results", path, None, None, None, None, SECOND_SHEET.id, WARNING, f"{path}: {text}")
        for text in (
            f"sheet «{other}» also holds results and was not read: one sheet of results per file"
            for other in other_sheets
        )
    ]
    columns: dict[str, list] = {
        name: []
        for name in (
            "participant_code",
            "class_letter",
            "variant",
            "sex",
            "task_scores",
            "primary_score",
            "mark",
            "journal_mark",
            "is_absent",
            "login",
            "_row_number",
        )
    }
    groups: dict[str, int] = {}
    rows_per_login: dict[str, int] = {}

    # Each row gets one None appended: a role the file has no column for reads it (index -1), so a cell is
    # taken by its index alone, hundreds of thousands of times; shorter rows are padded to the columns read.
    reach = max([*task_columns, *p.values()]) + 1
    at = {role: p.get(role, -1) for role in (*_COLUMN_OF_ROLE, "school")}

    for index in range(header.row + 1, len(rows)):
        cells, number = rows[index], index + 1
        if len(cells) < reach:
            cells = cells + [None] * (reach - len(cells))
        cells.append(None)
        if layout.group_row is not None:
            first = next((c for c in cells if isinstance(c, str) and c.strip()), None)
            group = layout.group_row.fullmatch(normalised(first)) if first is not None else None
            if group:
                groups[group["login"]] = int(group["participants"])
                continue
        code = text_cell(cells[at["participant_code"]])
        scores = [cells[c] for c in task_columns]
        if code is None and all(text_cell(s) is None for s in scores) and text_cell(cells[at["variant"]]) is None:
            continue  # a blank row of the template: only its formula total is filled in
        # an empty cell is read as "": most rows are padded with them to the sheet's width
        beyond = [i for i in range(header.width, len(cells)) if cells[i] != "" and text_cell(cells[i]) is not None]
        if beyond:
            issues.append(
                Issue(
                    "vpr_results",
                    path,
                    sheet,
                    number,
                    None,
                    None,
                    BEYOND_HEADER.id,
                    WARNING,
                    f"{location(path, sheet, number, None)}: {len(beyond)} cell(s) right of the last "
                    f"header (column {beyond[0] + 1} onwards) were not read",
                )
            )
        absent = _word(cells[at["variant"]]) in vocab.absent
        login = context.login or login_cell(cells[at["login"]]) or login_cell(cells[at["school"]])
        columns["participant_code"].append(code)
        columns["login"].append(login)
        columns["is_absent"].append(absent)
        columns["variant"].append(None if absent else number_cell(cells[at["variant"]]))
        columns["task_scores"].append(
            [None] * len(scores)
            if absent
            # a float is a score as it stands: only text can be a «not attempted» mark
            else [s if s.__class__ is float else _score(s, layout.not_attempted) for s in scores]
        )
        columns["primary_score"].append(None if absent else number_cell(cells[at["primary_score"]]))
        columns["mark"].append(None if absent else number_cell(cells[at["mark"]]))
        journal = cells[at["journal_mark"]]
        columns["journal_mark"].append(None if _word(journal) in vocab.no_journal_mark else number_cell(journal))
        klass = text_cell(cells[at["class"]])
        columns["class_letter"].append(None if klass is None or normalised(klass) in vocab.no_class else klass.upper())
        sex = text_cell(cells[at["sex"]])
        columns["sex"].append(sex.upper() if sex and sex.upper() in SEXES else sex)
        columns["_row_number"].append(number)
        if login:
            rows_per_login[login] = rows_per_login.get(login, 0) + 1
    for login, announced in groups.items():
        if rows_per_login.get(login, 0) != announced:
            issues.append(
                Issue(
                    "vpr_results",
                    path,
                    sheet,
                    None,
                    None,
                    None,
                    GROUP_COUNT.id,
                    WARNING,
                    f"{path}, sheet «{sheet}»: the group row of {login} announces {announced} participants, "
                    f"the file lists {rows_per_login.get(login, 0)}",
                )
            )
    n = len(columns["_row_number"])
    columns.update(
        {
            "year": [context.year] * n,
            "work_code": [work_code] * n,
            "subject_code": [context.subject.code] * n,
            "grade": [context.grade] * n,
            "task_max": [list(task_max)] * n,
            "layout": [layout.id] * n,
            "_scale_cuts": [_cuts(work_code, context.year) if configured else None] * n,
            "_sheet": [sheet] * n,
        }
    )
    labels = [written for _, written, _ in header.tasks]
    cells_ = {
        "_row_number": [r for r in columns["_row_number"] for _ in labels],
        "_column": labels * n,
        "score": [s for row in columns["task_scores"] for s in row],
        "max": [float(m) for m in task_max] * n,
        "_sheet": [sheet] * (n * len(labels)),
    }
    headers = {role_column: header.headers[p[role]] for role, role_column in _COLUMN_OF_ROLE.items() if role in p}
    if "login" not in headers:  # None: from the file's place, so a failure is said once for the file
        headers["login"] = header.headers[p["school"]] if "school" in p else None
    return ParsedFile(columns, sheet, cells_, headers=headers, issues=issues, row_level=layout.many_schools)


def _cuts(work_code: str, year: int) -> str | None:
    """The cut scores for 3/4/5 as text («7/11/15»): one value per row, whatever numpy would make of a tuple."""
    spec = work_spec(work_code, year)
    return None if spec is None else "/".join(map(str, spec.cuts))


_COLUMN_OF_ROLE = {
    "participant_code": "participant_code",
    "class": "class_letter",
    "variant": "variant",
    "sex": "sex",
    "primary_score": "primary_score",
    "mark": "mark",
    "journal_mark": "journal_mark",
    "login": "login",
}
