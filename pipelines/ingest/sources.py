"""The sources of the landing folder: where each one's files are and which raw table they fill."""

from __future__ import annotations

import fnmatch
import glob
import os
from dataclasses import dataclass
from pathlib import Path

from pipelines.ingest.campaigns import campaign_of_file


@dataclass(frozen=True)
class Source:
    name: str  # the raw table, and the asset key raw/<name>
    title: str
    patterns: tuple[str, ...]  # globs under the landing folder
    kind: str  # excel or csv, as the asset's kind
    partitioned: bool = False  # by campaign
    catch_all: bool = False  # takes the files of its patterns that no other source names


LOGIN_ALIASES_FILE = "registry/login_aliases.xlsx"
SOURCES: dict[str, Source] = {source.name: source for source in (
    # Any workbook of registry/ that no other source claims (login aliases, the ГИА crosswalk).
    Source("schools", "реестр ОО", ("registry/*.xlsx",), "excel", catch_all=True),
    Source("login_aliases", "подтверждённые прежние логины ОО", (LOGIN_ALIASES_FILE,), "excel"),
    Source("fioko_shnor", "ФИОКО: перечень ШНОР", ("fioko/shnor_*.xlsx",), "excel"),
    Source("fioko_objectivity_markers", "ФИОКО: признаки необъективности ВПР", ("fioko/objectivity_markers*.xlsx",), "excel"),
    Source("fioko_risk_profiles", "ФИОКО «500+»: рисковые профили", ("fioko/risk_profiles_*.xlsx",), "excel"),
    Source("gia_school_codes", "ГИА: коды ОО РЦОИ → логины ФИС ОКО", ("registry/gia_school_codes*.xlsx",), "excel"),
    Source("social_passport", "социальный паспорт ОО", ("social_passport/*.xlsx",), "excel"),
    # Loose globs inside a source's own folder: a misnamed file is quarantined with a message, not ignored.
    Source("vpr_results", "ВПР: результаты участников", ("vpr/**/*.xlsx", "vpr/vpr_*.parquet"), "excel", partitioned=True),
    # Aggregated reports have a folder of their own: the year is in their title block (or column «Год»).
    Source("vpr_report_counts", "ВПР: агрегированные отчёты ФИС ОКО", ("vpr_reports/**/*.xlsx",), "excel"),
    # ГИА: the CSV layout gia/gia_<YYYY>.csv and РЦОИ lists («ведомости») under any name, also in subfolders.
    Source("gia_results", "ГИА: результаты участников", ("gia/*.csv", "gia/*/*.csv"), "csv", partitioned=True),
)}
REGISTRY = "schools"  # loaded first: every other source checks its logins against it
ALIASES = "login_aliases"  # loaded second: a confirmed earlier login counts as the registry's


def _is_working_copy(file: str) -> bool:
    """Excel's lock files (~$name.xlsx) and hidden files are not inputs."""
    return os.path.basename(file).startswith(("~$", "."))


def _claimed_by_another(source: Source, file: str) -> bool:
    """Whether a catch-all source's file is named by another source's pattern, and so is that source's."""
    return source.catch_all and any(fnmatch.fnmatchcase(file, pattern) for other in SOURCES.values() if other is not source
               for pattern in other.patterns)


def in_scope(source: Source, file: str, campaign: str | None, landing_dir: Path | None = None) -> bool:
    """Whether a file of the source belongs to the campaign (every file, without one)."""
    return campaign is None or not source.partitioned or campaign_of_file(file, landing_dir) == campaign


def discover(landing_dir: Path, source: Source, campaign: str | None = None) -> list[str]:
    """The source's files in the landing folder, as paths relative to it, sorted."""
    # glob.glob with root_dir yields relative paths as strings: for thousands of forms it is several times
    # faster than Path.glob, which builds a Path per match.
    found = {
        file
        for pattern in source.patterns
        for file in glob.glob(pattern, root_dir=landing_dir, recursive=True)
        if not _is_working_copy(file) and not _claimed_by_another(source, file)
        and os.path.isfile(os.path.join(landing_dir, file))
    }
    return sorted(file for file in found if in_scope(source, file, campaign, landing_dir))
