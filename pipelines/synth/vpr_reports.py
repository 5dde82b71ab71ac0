"""ВПР as the aggregated ФИС ОКО reports (FORMATS.md B1–B3 of the shared notes), for authorities that never
see participant rows.

The reports are counted from the same simulated participants (`VprBatch`) the participant files are
written from, so a region generated at either level describes one truth:

- B1 «Статистика по отметкам», one workbook per work: `vpr_reports/<YYYY>/Статистика по отметкам РУ4.xlsx`,
  sheet `РУ 4 Статистика по отметкам`, the title block (report name, `ВПР <год> <предмет> <N> класс`,
  `Предмет:`, `Максимальный первичный балл:`, `Дата:`), the header `Группы участников | Кол-во ОО |
  Кол-во участников | 2 | 3 | 4 | 5` (percentages), then `Вся выборка` (every generated school), each region,
  its municipalities `…(reg86_m001)` and their schools `…(sch860001)`.
- B2 «Сравнение отметок с отметками по журналу», one workbook per work, sheet name cut at 31 characters as
  ФИС ОКО cuts it: the region, municipalities and schools (no `Вся выборка`, as in the real report), with
  `Кол-во участников(всего)` and, for понизили / подтвердили / повысили, the percentage of the pupils with
  a journal mark and their count.
- B3 flattened dashboard exports: the marks of every school and work of the year in one workbook
  (`Отметки по ОО <YYYY>.xlsx`: `Год | Класс | Предмет | Муниципалитет | Логин | ОО | Кол-во участников |
  2 | 3 | 4 | 5`), and per work the percentage of participants at each primary score
  (`Первичные баллы по ОО РУ4.xlsx`: the same keys, then `0 … max`).

Percentages have two decimals, as ФИС ОКО writes them: for any school they give back the exact counts;
for a region or the whole sample a count may be a few pupils off, within the reader's rounding tolerance.
The marks of a school appear in both B1 and B3; the pipeline takes each school's counts once.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipelines.ingest.vpr_reader import vocabulary
from pipelines.synth.schools import Schools
from pipelines.synth.specs import VprWork
from pipelines.synth.vpr import VprBatch
from pipelines.synth.vpr_files import municipality_codes, region_name
from pipelines.synth.writers import _workbook

MARK_STATISTICS = "Статистика по отметкам"
JOURNAL_COMPARISON = "Сравнение отметок с отметками по журналу"
FLAT_MARKS = "Отметки по ОО"
FLAT_SCORES = "Первичные баллы по ОО"
SHEET_NAME_LIMIT = 31  # Excel's limit, where ФИС ОКО cuts its sheet names
WHOLE_SAMPLE = "Вся выборка"
GROUP_HEADER = ("Группы участников", "Кол-во ОО", "Кол-во участников")
JOURNAL_GROUPS = (
    "Понизили (Отметка < Отметка по журналу)",
    "Подтвердили (Отметка = Отметке по журналу)",
    "Повысили (Отметка > Отметка по журналу)",
)
JOURNAL_HEADER = (
    "Группы участников",
    "Кол-во участников(всего)",
    *(f"{group} {what}" for group in JOURNAL_GROUPS for what in ("%", "Кол-во участников")),
)
FLAT_KEYS = ("Год", "Класс", "Предмет", "Муниципалитет", "Логин", "ОО", "Кол-во участников")
AUTUMN_YEAR = 2020  # the 2020 ВПР was written in the autumn
GENERATED_FILES = tuple(
    f"vpr_reports/[0-9][0-9][0-9][0-9]/{name} *.xlsx"
    for name in (MARK_STATISTICS, JOURNAL_COMPARISON, FLAT_MARKS, FLAT_SCORES)
)


@dataclass
class WorkCounts:
    """One work's counts per school position (zero where the school did not write it)."""

    year: int
    work: VprWork
    participants: np.ndarray
    marks: np.ndarray  # (schools, 4): pupils with «2», «3», «4», «5»
    journal: np.ndarray  # (schools, 3): pupils with a journal mark who понизили, подтвердили, повысили
    scores: np.ndarray  # (schools, max + 1): pupils at each primary score


def work_counts(batch: VprBatch) -> WorkCounts:
    n_schools, top = len(batch.offsets) - 1, batch.work.max_primary_score
    school = batch.school.astype(np.int64)

    def per_school(column: np.ndarray, width: int, keep: np.ndarray | None = None) -> np.ndarray:
        keys = school * width + column
        return np.bincount(keys if keep is None else keys[keep], minlength=n_schools * width).reshape(n_schools, width)

    mark, journal = batch.mark.astype(np.int64), batch.journal.astype(np.int64)
    comparison = np.sign(mark - journal) + 1  # 0 понизили, 1 подтвердили, 2 повысили
    return WorkCounts(
        year=batch.year,
        work=batch.work,
        participants=batch.participants(),
        marks=per_school(mark - 2, 4),
        journal=per_school(comparison, 3, keep=journal > 0),
        scores=per_school(batch.primary.astype(np.int64), top + 1),
    )


def _percent(counts: np.ndarray, total: float) -> list[float | None]:
    return [round(100 * float(c) / total, 2) if total else None for c in counts]


@dataclass
class _Group:
    label: str
    schools: np.ndarray  # school positions in the group
    is_school: bool


def _hierarchy(schools: Schools, participants: np.ndarray, whole_sample: bool) -> list[_Group]:
    """`Вся выборка`, then each region, its municipalities and their schools, in registry order."""
    registry = schools.registry
    region, municipality = registry["region_code"].to_numpy(), np.array(municipality_codes(schools), dtype=object)
    names, logins = registry["municipality"].to_numpy(), schools.login
    wrote = np.flatnonzero(participants > 0)
    groups = [_Group(WHOLE_SAMPLE, wrote, False)] if whole_sample else []
    for code in dict.fromkeys(region[wrote].tolist()):
        in_region = wrote[region[wrote] == code]
        groups.append(_Group(region_name(int(code)), in_region, False))
        for muni in dict.fromkeys(municipality[in_region].tolist()):
            members = in_region[municipality[in_region] == muni]
            groups.append(_Group(f"{names[members[0]]}({muni})", members, False))
            groups += [_Group(f"{registry['short_name'].iat[s]}({logins[s]})", np.array([s]), True) for s in members]
    return groups


def _subject(work: VprWork) -> tuple[str, str]:
    """The subject's name and ФИС ОКО abbreviation (`РУ`), as the participant reader knows them."""
    subject = next(s for s in vocabulary().subjects if s.code == work.subject_code)
    return subject.name, subject.abbreviation


def _report_date(year: int) -> str:
    return f"15.12.{year}" if year == AUTUMN_YEAR else f"20.05.{year}"


def _title_block(report: str, counts: WorkCounts) -> list[list]:
    work = counts.work
    subject, _ = _subject(work)
    return [
        [report],
        [],
        [f"ВПР {counts.year} {subject} {work.grade} класс"],
        ["Предмет:", subject],
        ["Максимальный первичный балл:", work.max_primary_score],
        ["Дата:", _report_date(counts.year)],
        [],
    ]


def _write_sheet(path: Path, sheet: str, rows: list[list]) -> None:
    workbook = _workbook(path, len(rows))
    worksheet = workbook.add_worksheet(sheet[:SHEET_NAME_LIMIT])
    for r, row in enumerate(rows):
        worksheet.write_row(r, 0, row)
    workbook.close()


def _file(landing: Path, year: int, name: str, counts: WorkCounts | None = None) -> Path:
    suffix = f"{_subject(counts.work)[1]}{counts.work.grade}" if counts else str(year)
    return landing / "vpr_reports" / str(year) / f"{name} {suffix}.xlsx"


def write_mark_statistics(landing: Path, schools: Schools, counts: WorkCounts) -> None:
    rows = [*_title_block(MARK_STATISTICS, counts), [*GROUP_HEADER, 2, 3, 4, 5]]
    for group in _hierarchy(schools, counts.participants, whole_sample=True):
        n = int(counts.participants[group.schools].sum())
        rows.append(
            [
                group.label,
                None if group.is_school else len(group.schools),
                n,
                *_percent(counts.marks[group.schools].sum(axis=0), n),
            ]
        )
    _, abbreviation = _subject(counts.work)
    _write_sheet(
        _file(landing, counts.year, MARK_STATISTICS, counts),
        f"{abbreviation} {counts.work.grade} {MARK_STATISTICS}",
        rows,
    )


def write_journal_comparison(landing: Path, schools: Schools, counts: WorkCounts) -> None:
    rows = [*_title_block(JOURNAL_COMPARISON, counts), list(JOURNAL_HEADER)]
    for group in _hierarchy(schools, counts.participants, whole_sample=False):
        pupils = counts.journal[group.schools].sum(axis=0)
        shares = _percent(pupils, float(pupils.sum()))
        rows.append(
            [
                group.label,
                int(counts.participants[group.schools].sum()),
                *(value for share, count in zip(shares, pupils.tolist()) for value in (share, count)),
            ]
        )
    _, abbreviation = _subject(counts.work)
    _write_sheet(
        _file(landing, counts.year, JOURNAL_COMPARISON, counts),
        f"{abbreviation} {counts.work.grade} {JOURNAL_COMPARISON}",
        rows,
    )


def _flat_rows(schools: Schools, counts: WorkCounts, measure: np.ndarray) -> list[list]:
    registry, subject = schools.registry, _subject(counts.work)[0]
    return [
        [
            counts.year,
            counts.work.grade,
            subject,
            registry["municipality"].iat[s],
            schools.login[s],
            registry["short_name"].iat[s],
            int(counts.participants[s]),
            *_percent(measure[s], float(counts.participants[s])),
        ]
        for s in np.flatnonzero(counts.participants > 0)
    ]


def write_flat_marks(landing: Path, schools: Schools, year: int, works: list[WorkCounts]) -> None:
    rows = [[*FLAT_KEYS, 2, 3, 4, 5]]
    for counts in works:
        rows += _flat_rows(schools, counts, counts.marks)
    _write_sheet(_file(landing, year, FLAT_MARKS), FLAT_MARKS, rows)


def write_flat_scores(landing: Path, schools: Schools, counts: WorkCounts) -> None:
    rows = [[*FLAT_KEYS, *range(counts.work.max_primary_score + 1)], *_flat_rows(schools, counts, counts.scores)]
    _write_sheet(_file(landing, counts.year, FLAT_SCORES, counts), FLAT_SCORES, rows)


def write_year_reports(landing: Path, schools: Schools, year: int, works: list[WorkCounts]) -> int:
    """Every report of the year's works; returns the number of files written."""
    written = [counts for counts in works if counts.participants.any()]
    for counts in written:
        write_mark_statistics(landing, schools, counts)
        write_journal_comparison(landing, schools, counts)
        write_flat_scores(landing, schools, counts)
    if written:
        write_flat_marks(landing, schools, year, written)
    return 3 * len(written) + bool(written)
