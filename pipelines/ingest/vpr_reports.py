"""ФИС ОКО aggregated ВПР reports (docs/inputs.md, «ВПР: агрегированные отчёты»), read unchanged.

Two layouts, recognised by content:

- *hierarchical* (the reports as ФИС ОКО shows them): a title block (`Статистика по отметкам`,
  `ВПР 2026 Русский язык 4 класс`, `Предмет:`, `Максимальный первичный балл:`, `Дата:`), a header
  `Группы участников | …`, then the rows `Вся выборка` → region → municipality `…(reg20_m012)` → school
  `…(edu203389)`. The measure columns say which report it is: marks `2 | 3 | 4 | 5` («Статистика по
  отметкам», B1), `Понизили … % | … Кол-во участников | Подтвердили … | Повысили …` («Сравнение отметок с
  отметками по журналу», B2), or primary scores `0 | 1 | … | max` («Распределение первичных баллов»).
- *flattened* (B3, public dashboards): `Год | Класс | Предмет | Муниципалитет | Логин | ОО | Кол-во
  участников | 2 | 3 | 4 | 5`, or the same keys with one column per primary score `0 … max`; one row per
  school, each row naming its own work.

Every file becomes one raw row per group row × measure: the percentage as written and the count it
stands for (percentage × the row's `Кол-во участников`, or the count the file gives). Whether a row's
counts add up to its participants is the contract's rule `report_rounding`. The title block, sheet name,
subjects and logins are read with the helpers of the participant reader.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Any

from pipelines.ingest.campaigns import YEAR_IN_NAME
from pipelines.ingest.contracts import rule
from pipelines.ingest.readers import (
    HEADER_SEARCH_ROWS,
    ParsedFile,
    ReadError,
    _as_is,
    _sheet_rows,
    login_cell,
    number_cell,
    text_cell,
)
from pipelines.ingest.validate import Issue, location
from pipelines.ingest.vpr_reader import (
    WORK_NOT_CONFIGURED,
    YEAR_OF_FOLDER,
    _from_sheet,
    _from_title,
    _open,
    configured_work,
    normalised,
    vocabulary,
)

SOURCE = "vpr_report_counts"
PERCENT_DECIMALS = 2  # ФИС ОКО writes percentages with two decimals
HALF_UNIT_PP = 0.5 * 10**-PERCENT_DECIMALS  # the most a written percentage is off its exact value

REPORT_LAYOUT = rule(
    "vpr_report_layout",
    "a ФИС ОКО report layout of docs/inputs.md (a header «Группы участников» "
    "or «Год | Класс | Предмет | … | Логин | … | Кол-во участников», with its measure columns)",
    _as_is,
)
REPORT_CONTEXT = rule("vpr_report_context", "the year, subject and grade of the report can be determined", _as_is)
REPORT_MAX_SCORE = rule(
    "vpr_report_max_score", "the maximum primary score of the work configured for the year (seed vpr_works.csv)", _as_is
)
REPORT_GROUP = rule(
    "vpr_report_group",
    "a group row names «Вся выборка», a region, a municipality «…(reg20_m012)» or a school «…(edu203389)»",
    _as_is,
)

MUNICIPALITY_IN_NAME = re.compile(r"\(\s*(reg\d+_m\d+)\s*\)\s*$")
SCHOOL_IN_NAME = re.compile(r"\(\s*([a-z]{2,5}\d{4,8})\s*\)\s*$")
WHOLE_SAMPLE = "вся выборка"
JOURNAL_MEASURES = (("понизили", "lowered"), ("подтвердили", "confirmed"), ("повысили", "raised"))
KIND_NAMES = {
    "mark_statistics": "Статистика по отметкам",
    "journal_comparison": "Сравнение отметок с отметками по журналу",
    "score_distribution": "Распределение первичных баллов",
}
FLAT_KEYS = {
    "year": ("год",),
    "grade": ("класс",),
    "subject": ("предмет",),
    "municipality": ("муниципалитет",),
    "login": ("логин", "логин оо"),
    "school": ("оо", "наименование оо", "название оо"),
}
PARTICIPANT_HEADERS = (
    "кол-во участников",
    "кол-во участников(всего)",
    "кол-во участников (всего)",
    "количество участников",
)
COLUMNS = (
    "year",
    "work_code",
    "subject_code",
    "grade",
    "report",
    "report_title",
    "report_date",
    "max_primary_score",
    "layout",
    "group_level",
    "group_name",
    "login",
    "municipality_code",
    "municipality",
    "schools",
    "participants",
    "measure",
    "measure_value",
    "percent",
    "count",
    "count_in_file",
    "_row_number",
    "_sheet",
    "_column",
    "_counts_sum",
    "_tolerance",
    "_exact_sum",
    "_percents",
    "_compared",
)


def rounding_tolerance(participants: float, cells: int) -> float:
    """Pupils a count derived from rounded percentages may be off: one pupil, or for large groups the
    rounding of the percentages (half a unit of their last decimal per cell, times the participants)."""
    return max(1.0, cells * HALF_UNIT_PP * participants / 100)


def _number_header(value: Any) -> int | None:
    number = number_cell(value)
    return int(number) if isinstance(number, float) and number.is_integer() and 0 <= number <= 200 else None


# --------------------------------------------------------------------------------------------------
# Recognising the layout


def _measures(headers: list[Any], first: int) -> tuple[str, list[tuple[int, str, int | None, bool]]] | None:
    """(report kind, [(column, measure, measure value, is a count column)]) of the columns from `first`."""
    numbered = [(c, _number_header(h)) for c, h in enumerate(headers) if c >= first and _number_header(h) is not None]
    journal = []
    for c, header in enumerate(headers):
        key = normalised(header) if header is not None else ""
        for word, measure in JOURNAL_MEASURES:
            if key.startswith(word):
                journal.append((c, measure, None, not key.endswith("%")))
    if journal:
        return "journal_comparison", journal
    values = [v for _, v in numbered]
    if values == [2, 3, 4, 5]:
        return "mark_statistics", [(c, f"mark_{v}", v, False) for c, v in numbered]
    if values and values == list(range(len(values))) and len(values) > 5:
        return "score_distribution", [(c, f"score_{v}", v, False) for c, v in numbered]
    return None


def _find_table(rows: list[list[Any]]) -> tuple[str, int, dict[str, int]] | None:
    """(layout, header row, role → column) of the first report header among the sheet's first rows."""
    for r, cells in enumerate(rows[:HEADER_SEARCH_ROWS]):
        keys = [normalised(c) if isinstance(c, str) else "" for c in cells]
        participants = next((c for c, k in enumerate(keys) if k in PARTICIPANT_HEADERS), None)
        if participants is None:
            continue
        if "группы участников" in keys:
            roles = {"group": keys.index("группы участников"), "participants": participants}
            if "кол-во оо" in keys:
                roles["schools"] = keys.index("кол-во оо")
            return "hierarchical", r, roles
        roles = {
            role: next((c for c, k in enumerate(keys) if k in aliases), None) for role, aliases in FLAT_KEYS.items()
        }
        if all(roles[role] is not None for role in ("year", "grade", "subject", "login")):
            return "flattened", r, {**{k: v for k, v in roles.items() if v is not None}, "participants": participants}
    return None


# --------------------------------------------------------------------------------------------------
# The title block


def _title_value(above: list[list[Any]], label: str) -> Any:
    """The cell right of a title-block label such as «Максимальный первичный балл:»."""
    for cells in above:
        for c, cell in enumerate(cells):
            if isinstance(cell, str) and normalised(cell).rstrip(":") == label:
                return next((v for v in cells[c + 1 :] if text_cell(v) is not None), None)
    return None


def _report_title(above: list[list[Any]]) -> str | None:
    for cells in above:
        first = next((text_cell(c) for c in cells if text_cell(c) is not None), None)
        if first:
            return first
    return None


def _folder_year(path: str) -> int | None:
    folders = PurePosixPath(path).parts[1:-1]
    return next((int(f) for f in folders if YEAR_IN_NAME.fullmatch(f)), None)


def _checked_work(code: str, year: int, max_in_file: float | None) -> int:
    """The configured maximum primary score of the work; a work the seeds lack or a different maximum is an error."""
    spec = configured_work(code, year, "")
    if max_in_file is not None and max_in_file != spec.max_primary_score:
        raise ReadError(
            REPORT_MAX_SCORE.id,
            f"the title block gives a maximum primary score of {max_in_file:g}; work "
            f"{code} of {year} is configured ({spec.versions}) with {spec.max_primary_score}. If the report "
            f"is right, extend dbt_project/seeds/vpr_works.csv and vpr_tasks.csv for {year}",
        )
    return spec.max_primary_score


# --------------------------------------------------------------------------------------------------
# Rows


class _Rows:
    """The raw columns being built, one entry per group row × measure."""

    def __init__(self):
        self.columns: dict[str, list] = {name: [] for name in COLUMNS}

    def add_group(
        self,
        base: dict[str, Any],
        measures: list[tuple[int, str, int | None, bool]],
        cells: list[Any],
        headers: list[str],
        kind: str,
    ) -> None:
        participants = base["participants"]
        n = participants if isinstance(participants, float) else None
        by_measure: dict[str, dict[str, Any]] = {}
        for column, measure, value, is_count in measures:
            entry = by_measure.setdefault(measure, {"value": value})
            entry["count" if is_count else "percent"] = number_cell(cells[column] if column < len(cells) else None)
            entry["count_header" if is_count else "header"] = headers[column]
        percents = [e.get("percent") for e in by_measure.values()]
        counts_in_file = all(isinstance(e.get("count"), float) for e in by_measure.values())
        derived = {}
        for measure, entry in by_measure.items():
            percent, count = entry.get("percent"), entry.get("count")
            if isinstance(count, float):
                derived[measure] = count
            elif isinstance(percent, float) and n is not None:
                derived[measure] = float(round(percent * n / 100))
            else:
                derived[measure] = None
        known = [c for c in derived.values() if c is not None]
        compared = sum(known) if counts_in_file else n
        shown_percents = " + ".join(
            "empty" if not isinstance(p, float) else f"{p:g}".replace(".", ",") for p in percents
        )
        for measure, entry in by_measure.items():
            row = {
                **base,
                "report": kind,
                "measure": measure,
                "measure_value": entry["value"],
                "percent": entry.get("percent"),
                "count": derived[measure],
                "count_in_file": counts_in_file,
                "_column": entry.get("header") or entry.get("count_header"),
                "_counts_sum": float(sum(known)) if len(known) == len(derived) else None,
                "_tolerance": rounding_tolerance(n, 1 if counts_in_file else len(by_measure)) if n else 1.0,
                "_exact_sum": kind != "journal_comparison",
                "_percents": shown_percents,
                "_compared": float(compared) if compared is not None else None,
            }
            for name in COLUMNS:
                self.columns[name].append(row.get(name))


def read_vpr_report(path: str, data: bytes) -> ParsedFile:
    """Reads a ФИС ОКО aggregated report workbook of either layout; raises ReadError when it cannot be read."""
    workbook = _open(data)
    for sheet in workbook.sheet_names:
        rows = _sheet_rows(workbook, sheet)
        found = _find_table(rows)
        if found is None:
            continue
        layout, header_row, roles = found
        headers = [" ".join(str(h).split()) if h is not None else "" for h in rows[header_row]]
        measures = _measures(rows[header_row], roles["participants"] + 1)
        if measures is None:
            raise ReadError(
                REPORT_LAYOUT.id,
                f"sheet «{sheet}», row {header_row + 1}: the header has no measure "
                "columns: marks «2 | 3 | 4 | 5», primary scores «0 | 1 | … | max» or «Понизили / "
                "Подтвердили / Повысили»",
            )
        reader = _read_hierarchical if layout == "hierarchical" else _read_flattened
        return reader(path, sheet, rows, header_row, roles, headers, *measures)
    raise ReadError(
        REPORT_LAYOUT.id,
        "no sheet has the header of a ФИС ОКО report (docs/inputs.md): none of its first "
        "rows holds «Группы участников» or «Год», «Логин» and «Кол-во участников»",
    )


def _read_hierarchical(
    path: str,
    sheet: str,
    rows: list[list[Any]],
    header_row: int,
    roles: dict[str, int],
    headers: list[str],
    kind: str,
    measures,
) -> ParsedFile:
    above = rows[:header_row]
    title, from_sheet = _from_title(above), _from_sheet(sheet)
    year = title.get("year")
    subject, grade = title.get("subject") or from_sheet.get("subject"), title.get("grade") or from_sheet.get("grade")
    if year is None or subject is None or grade is None:
        missing = [
            what
            for what, value in (("the year", year), ("the subject", subject), ("the grade", grade))
            if value is None
        ]
        raise ReadError(
            REPORT_CONTEXT.id,
            f"could not tell {' and '.join(missing)} of the report: its title block "
            "should hold a line such as «ВПР 2026 Русский язык 4 класс» (or the sheet be named «РУ 4 …»)",
        )
    folder_year = _folder_year(path)
    if folder_year is not None and folder_year != year:
        raise ReadError(
            YEAR_OF_FOLDER.id,
            f"the title says ВПР {year}, but the file is under the folder of "
            f"{folder_year}: move it to vpr_reports/{year}/",
        )
    work_code = f"{subject.code}{grade}"
    max_in_file = number_cell(_title_value(above, "максимальный первичный балл"))
    max_score = _checked_work(work_code, year, max_in_file if isinstance(max_in_file, float) else None)
    if kind == "score_distribution" and len(measures) != max_score + 1:
        raise ReadError(
            REPORT_MAX_SCORE.id,
            f"the primary scores run 0–{len(measures) - 1}; work {work_code} of {year} has a maximum of {max_score}",
        )
    date = _title_value(above, "дата")
    out, issues = _Rows(), []
    municipality_code = municipality = None
    for index in range(header_row + 1, len(rows)):
        cells = rows[index]
        group = text_cell(cells[roles["group"]]) if roles["group"] < len(cells) else None
        if group is None:
            continue
        number, lowered = index + 1, group.lower()
        login = None
        if normalised(group) == WHOLE_SAMPLE:
            level, name = "all", group
        elif MUNICIPALITY_IN_NAME.search(lowered):
            level, name = "municipality", group[: MUNICIPALITY_IN_NAME.search(lowered).start()].strip()
            municipality_code, municipality = MUNICIPALITY_IN_NAME.search(lowered)[1], name
        elif SCHOOL_IN_NAME.search(lowered):
            level, name, login = "school", group[: SCHOOL_IN_NAME.search(lowered).start()].strip(), login_cell(group)
        elif "(" in group:
            issues.append(
                Issue(
                    SOURCE,
                    path,
                    sheet,
                    number,
                    headers[roles["group"]],
                    group,
                    REPORT_GROUP.id,
                    REPORT_GROUP.severity,
                    f"{location(path, sheet, number, headers[roles['group']])}: "
                    f"«{group}» is not «Вся выборка», a region, a municipality «…(reg20_m012)» or a "
                    "school «…(edu203389)»",
                )
            )
            continue
        else:
            level, name, municipality_code, municipality = "region", group, None, None
        base = {
            "year": year,
            "work_code": work_code,
            "subject_code": subject.code,
            "grade": grade,
            "report_title": _report_title(above),
            "report_date": text_cell(date),
            "max_primary_score": max_score,
            "layout": "hierarchical",
            "group_level": level,
            "group_name": name,
            "login": login,
            "municipality_code": municipality_code if level in ("municipality", "school") else None,
            "municipality": municipality if level in ("municipality", "school") else None,
            "schools": number_cell(cells[roles["schools"]]) if "schools" in roles else None,
            "participants": number_cell(cells[roles["participants"]]),
            "_row_number": number,
            "_sheet": sheet,
        }
        out.add_group(base, measures, cells, headers, kind)
    return ParsedFile(
        out.columns,
        sheet,
        headers={"participants": headers[roles["participants"]], "login": headers[roles["group"]]},
        issues=issues,
        row_level=True,
    )


def _read_flattened(
    path: str,
    sheet: str,
    rows: list[list[Any]],
    header_row: int,
    roles: dict[str, int],
    headers: list[str],
    kind: str,
    measures,
) -> ParsedFile:
    vocab, out, issues = vocabulary(), _Rows(), []
    title = _report_title(rows[:header_row])
    for index in range(header_row + 1, len(rows)):
        cells = rows[index]
        value = {role: (cells[c] if c < len(cells) else None) for role, c in roles.items()}
        if all(text_cell(v) is None for v in value.values()):
            continue
        number = index + 1
        year, grade = number_cell(value["year"]), number_cell(value["grade"])
        subject_text = text_cell(value["subject"])
        subject = subject_text and (vocab.subject_coded(subject_text) or vocab.subject_in(normalised(subject_text)))
        problem = None
        if not (isinstance(year, float) and isinstance(grade, float) and subject):
            problem = (
                REPORT_CONTEXT,
                headers[roles["subject"] if not subject else roles["year"]],
                f"the year «{text_cell(value['year'])}», grade «{text_cell(value['grade'])}» and subject "
                f"«{subject_text}» do not name a ВПР work",
            )
        elif _folder_year(path) not in (None, int(year)):
            problem = (
                YEAR_OF_FOLDER,
                headers[roles["year"]],
                f"the row says {int(year)}, but the file is under the "
                f"folder of {_folder_year(path)}: move it to vpr_reports/ (no year folder) or correct the year",
            )
        else:
            work_code = f"{subject.code}{int(grade)}"
            try:
                max_score = _checked_work(work_code, int(year), None)
                if kind == "score_distribution" and len(measures) != max_score + 1:
                    raise ReadError(
                        REPORT_MAX_SCORE.id,
                        f"the primary scores run 0–{len(measures) - 1}; work "
                        f"{work_code} of {int(year)} has a maximum of {max_score}",
                    )
            except ReadError as error:
                problem = (
                    REPORT_MAX_SCORE if error.rule_id == REPORT_MAX_SCORE.id else WORK_NOT_CONFIGURED,
                    headers[roles["subject"]],
                    error.message,
                )
        if problem:
            rule_, column, message = problem
            issues.append(
                Issue(
                    SOURCE,
                    path,
                    sheet,
                    number,
                    column,
                    None,
                    rule_.id,
                    rule_.severity,
                    f"{location(path, sheet, number, column)}: {message}",
                )
            )
            continue
        base = {
            "year": int(year),
            "work_code": work_code,
            "subject_code": subject.code,
            "grade": int(grade),
            "report_title": title,
            "report_date": None,
            "max_primary_score": max_score,
            "layout": "flattened",
            "group_level": "school",
            "group_name": text_cell(value.get("school")) or text_cell(value["login"]),
            "login": login_cell(value["login"]),
            "municipality_code": None,
            "municipality": text_cell(value.get("municipality")),
            "schools": None,
            "participants": number_cell(value["participants"]),
            "_row_number": number,
            "_sheet": sheet,
        }
        out.add_group(base, measures, cells, headers, kind)
    return ParsedFile(
        out.columns,
        sheet,
        headers={"participants": headers[roles["participants"]], "login": headers[roles["login"]]},
        issues=issues,
        row_level=True,
    )


def is_report(data: bytes) -> str | None:
    """The kind of ФИС ОКО report a workbook is, or None: the participant reader uses it to say where it goes."""
    try:
        workbook = _open(data)
        for sheet in workbook.sheet_names:
            rows = _sheet_rows(workbook, sheet)
            found = _find_table(rows)
            if found:
                measures = _measures(rows[found[1]], found[2]["participants"] + 1)
                if measures:
                    return KIND_NAMES[measures[0]]
    except (ReadError, IndexError):
        return None
    return None
