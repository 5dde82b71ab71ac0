"""The sources of the landing folder: where each one's files are and which raw table they fill."""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass
from pathlib import Path

from pipelines.ingest.campaigns import campaign_of_file
from pipelines.ingest.listing import landing_files, matching


@dataclass(frozen=True)
class Source:
    name: str  # the raw table, and the asset key raw/<name>
    title: str
    patterns: tuple[str, ...]  # globs under the landing folder
    kind: str  # excel or csv, as the asset's kind
    description: str  # what the source holds, as its asset describes it in the Dagster UI
    partitioned: bool = False  # by campaign
    catch_all: bool = False  # takes the files of its patterns that no other source names


LOGIN_ALIASES_FILE = "registry/login_aliases.xlsx"
SOURCES: dict[str, Source] = {
    source.name: source
    for source in (
        # Any workbook of registry/ that no other source claims (login aliases, the ГИА crosswalk).
        Source(
            "schools",
            "реестр ОО",
            ("registry/*.xlsx",),
            "excel",
            "Реестр ОО (`registry/*.xlsx`, as thin as `логин | имя | регион`): schools, their logins and context; "
            "every other source's logins are checked against it.",
            catch_all=True,
        ),
        Source(
            "login_aliases",
            "подтверждённые прежние логины ОО",
            (LOGIN_ALIASES_FILE,),
            "excel",
            "Confirmed earlier logins of registry schools (`registry/login_aliases.xlsx`: `Прежний логин | Логин`): "
            "a school whose login changed (`sch220122` → `edu220122`) is one school. The pipeline proposes pairs with "
            "the same digits in its quarantine messages; only the pairs listed here are merged.",
        ),
        Source(
            "fioko_shnor",
            "ФИОКО: перечень ШНОР",
            ("fioko/shnor_*.xlsx",),
            "excel",
            "FIOKO's yearly lists of schools with low results, ШНОР (`fioko/shnor_<YYYY>.xlsx`), with the official "
            "level of each school.",
        ),
        Source(
            "fioko_objectivity_markers",
            "ФИОКО: признаки необъективности ВПР",
            ("fioko/objectivity_markers*.xlsx",),
            "excel",
            "FIOKO's lists of schools with signs of non-objective ВПР results (`fioko/objectivity_markers*.xlsx`), "
            "one row per school × year × marker column; an empty marker (not assessed) stays NULL, not 0.",
        ),
        Source(
            "fioko_risk_profiles",
            "ФИОКО «500+»: рисковые профили",
            ("fioko/risk_profiles_*.xlsx",),
            "excel",
            "FIOKO «500+» risk profiles (`fioko/risk_profiles_<YYYY>.xlsx`): the level of each risk factor of a "
            "school in a year.",
        ),
        Source(
            "gia_school_codes",
            "ГИА: коды ОО РЦОИ → логины ФИС ОКО",
            ("registry/gia_school_codes*.xlsx",),
            "excel",
            "The crosswalk of РЦОИ school codes to logins (`registry/gia_school_codes.xlsx`): a school's «Код ОО», "
            "«Код ОГЭ» and «Код ЕГЭ» in a year; РЦОИ lists are mapped to schools through it in dbt.",
        ),
        Source(
            "social_passport",
            "социальный паспорт ОО",
            ("social_passport/*.xlsx",),
            "excel",
            "Schools' social passports (`social_passport/social_passport_<YYYY>.xlsx`): counts of students by social "
            "category with their denominator, and staffing; share columns are checked against the counts.",
        ),
        # Loose globs inside a source's own folder: a misnamed file is quarantined with a message, not ignored;
        # a file no pattern takes (FIOKO lists are named, `.xls`, other folders) is listed by `unread_files` below.
        Source(
            "vpr_results",
            "ВПР: результаты участников",
            ("vpr/**/*.xlsx", "vpr/vpr_*.parquet"),
            "excel",
            "ВПР participant results of one campaign, one row per pupil and work: every workbook under `vpr/<YYYY>/` "
            "in a layout of `pipelines/ingest/vpr_layouts.yml` (school protocol forms, region exports, the report "
            "«Ф1»), checked against the work's task list of the year, or a federal archive `vpr/vpr_<YYYY>.parquet`.",
            partitioned=True,
        ),
        # Aggregated reports have a folder of their own: the year is in their title block (or column «Год»).
        Source(
            "vpr_report_counts",
            "ВПР: агрегированные отчёты ФИС ОКО",
            ("vpr_reports/**/*.xlsx",),
            "excel",
            "ФИС ОКО aggregated ВПР reports (`vpr_reports/…`, any subfolder and name, recognised by content): "
            "«Статистика по отметкам», «Сравнение отметок с отметками по журналу», «Распределение первичных баллов» "
            "and their flattened exports, one row per group row × measure, the percentage as written and the count it "
            "stands for; region and municipality rows are kept as official reference values.",
        ),
        # ГИА: the CSV layout gia/gia_<YYYY>.csv and РЦОИ lists («ведомости») under any name, also in subfolders.
        Source(
            "gia_results",
            "ГИА: результаты участников",
            ("gia/*.csv", "gia/*/*.csv"),
            "csv",
            "ОГЭ/ЕГЭ/ГВЭ results of one campaign from РЦОИ, one row per participant and exam: the lists («ведомости», "
            "`gia/**/*.csv` under any name, recognised by their header; appeals lists into raw.gia_appeals) and the "
            "CSV layout `gia/gia_<YYYY>.csv`. Names and documents are dropped on read.",
            partitioned=True,
        ),
    )
}
REGISTRY = "schools"  # loaded first: every other source checks its logins against it
ALIASES = "login_aliases"  # loaded second: a confirmed earlier login counts as the registry's


def _is_working_copy(file: str) -> bool:
    """Excel's lock files (~$name.xlsx) and hidden files are not inputs."""
    return os.path.basename(file).startswith(("~$", "."))


def _claimed_by_another(source: Source, file: str) -> bool:
    """Whether a catch-all source's file is named by another source's pattern, and so is that source's."""
    return source.catch_all and any(
        fnmatch.fnmatchcase(file, pattern)
        for other in SOURCES.values()
        if other is not source
        for pattern in other.patterns
    )


def in_scope(source: Source, file: str, campaign: str | None, landing_dir: Path | None = None) -> bool:
    """Whether a file of the source belongs to the campaign (every file, without one)."""
    return campaign is None or not source.partitioned or campaign_of_file(file, landing_dir) == campaign


def discover(landing_dir: Path, source: Source, campaign: str | None = None) -> list[str]:
    """The source's files in the landing folder, as paths relative to it, sorted."""
    files = landing_files(landing_dir)
    found = {
        file
        for pattern in source.patterns
        for file in matching(files, pattern)
        if not _is_working_copy(file)
        and not _claimed_by_another(source, file)
        and os.path.isfile(os.path.join(landing_dir, file))
    }
    return sorted(file for file in found if in_scope(source, file, campaign, landing_dir))


# --------------------------------------------------------------------------------------------------
# Files no source reads
#
# Every file under the landing folder is either read by a source or listed with the reason it is not (a
# warning of the registry's load, in the run's log and the metadata of raw/schools): a misnamed FIOKO list, an
# Excel 97–2003 workbook, a ГИА CSV whose campaign cannot be told, a folder that is not an input folder.
# Not listed: what the pipeline's own tools write or read elsewhere (IGNORED), hidden files and Excel's lock
# files, and the markers «<file>.intentionally-empty» (load.py).

INPUT_FOLDERS = ("registry", "fioko", "vpr", "vpr_reports", "gia", "social_passport", "reviews")
IGNORED = ("ground_truth/", "reviews/reviews.csv")  # the sample generator's answers; the reviews asset's file
MARKER_SUFFIXES = (".intentionally-empty",)
FIOKO_NAMES = "shnor_<YYYY>.xlsx, objectivity_markers*.xlsx or risk_profiles_<YYYY>.xlsx"


def _unread_reason(file: str) -> str:
    folder, _, rest = file.partition("/")
    extension = os.path.splitext(file)[1].lower()
    if not rest:
        return (
            f"a file at the top of the landing folder is not read; inputs go in the folders "
            f"{', '.join(f + '/' for f in INPUT_FOLDERS)} (docs/inputs.md)"
        )
    if folder not in INPUT_FOLDERS:
        return (
            f"the folder «{folder}/» is not an input folder; inputs go in "
            f"{', '.join(f + '/' for f in INPUT_FOLDERS)} (docs/inputs.md)"
        )
    if extension == ".xls":
        return "an Excel 97–2003 workbook (.xls) is not read: open it in Excel and save it as .xlsx («Книга Excel»)"
    if extension in (".xlsm", ".xlsb", ".ods"):
        return f"a {extension} workbook is not read: save it as .xlsx («Книга Excel»)"
    if folder == "fioko":
        return (
            f"FIOKO lists are recognised by their name: rename it to {FIOKO_NAMES} "
            "(e.g. fioko/shnor_2023.xlsx), as docs/inputs.md says"
        )
    if folder == "gia":
        if extension != ".csv":
            return "ГИА results are read from .csv files only (РЦОИ lists and the CSV layout)"
        if rest.count("/") > 1:
            return "ГИА files are read in gia/ and one level of subfolders (gia/<folder>/<file>.csv), not deeper"
        return (
            "its campaign cannot be told: a file of the CSV layout (header starting «Год») is read only as "
            "gia/gia_<YYYY>.csv, a РЦОИ list by the date of its title row; rename it, e.g. gia/gia_2023.csv"
        )
    if folder == "vpr":
        if extension != ".xlsx":
            return "ВПР participant files are read as .xlsx workbooks (and federal archives vpr/vpr_<YYYY>.parquet)"
        return "its year cannot be told: put it in a year folder vpr/<YYYY>/ (2019–2036)"
    if folder == "reviews":
        return "reviewers' decisions are read from reviews/reviews.csv only"
    return f"only .xlsx workbooks are read in {folder}/"


def unread_files(landing_dir: Path) -> list[tuple[str, str]]:
    """(file, why it is not read) for every file of the landing folder that no source reads, sorted."""
    from pipelines.ingest.campaigns import CAMPAIGN_KEYS

    landing_dir = Path(landing_dir)
    read = set()
    for source in SOURCES.values():
        files = discover(landing_dir, source)
        if source.partitioned:
            keys = set(CAMPAIGN_KEYS)
            files = [f for f in files if campaign_of_file(f, landing_dir) in keys]
        read.update(files)
    return [
        (file, _unread_reason(file))
        for file in landing_files(landing_dir)
        if file not in read
        and not file.startswith(IGNORED)
        and not file.endswith(MARKER_SUFFIXES)
        and not any(part.startswith("~$") for part in file.split("/"))
    ]
