"""Monitoring campaigns: the partitions of participant results (ВПР, ГИА).

A campaign is an academic year and its half: `2023-2024/H1` is the autumn of 2023, `2023-2024/H2` the
spring and summer of 2024, when the spring ВПР and the summer ОГЭ/ЕГЭ of calendar year 2024 are written.
Files in the landing folder are named by calendar year (`vpr/2024/…`, `gia/gia_2024.csv`), and the
folder layout has no place for autumn results yet, so every file belongs to an H2 campaign and the H1
partitions exist for the autumn ВПР (2020) when they arrive.
"""

import re
from pathlib import Path

from pipelines.ingest.listing import landing_files

FIRST_ACADEMIC_YEAR = 2018  # 2018-2019, the first year of the current ВПР and FIOKO lists
LAST_ACADEMIC_YEAR = 2035  # 2035-2036
HALVES = ("H1", "H2")
CAMPAIGN_PATTERN = re.compile(r"^(\d{4})-(\d{4})/(H1|H2)$")
YEAR_OF_CAMPAIGN_FILE = (
    re.compile(r"^vpr/vpr_(\d{4})\.parquet$"),
    re.compile(r"^gia/gia_(\d{4})\.csv$"),
)
VPR_YEAR_FOLDER = re.compile(r"^vpr/(?:[^/]+/)*?((?:19|20)\d\d)/")
YEAR_IN_NAME = re.compile(r"(?<!\d)((?:19|20)\d\d)(?!\d)")

CAMPAIGN_KEYS = tuple(
    f"{year}-{year + 1}/{half}" for year in range(FIRST_ACADEMIC_YEAR, LAST_ACADEMIC_YEAR + 1) for half in HALVES
)


def campaign_for_year(data_year: int) -> str:
    """The campaign of the spring ВПР and summer ГИА of calendar year `data_year`: `{Y-1}-{Y}/H2`."""
    return f"{data_year - 1}-{data_year}/H2"


def years_for_campaign(key: str) -> tuple[int, ...]:
    """Calendar years whose files a campaign loads: `(Y,)` for `{Y-1}-{Y}/H2`, none for an H1 campaign."""
    match = CAMPAIGN_PATTERN.match(key)
    if not match or int(match[2]) != int(match[1]) + 1:
        raise ValueError(f"not a campaign key: {key!r} (expected e.g. '2023-2024/H2')")
    return (int(match[2]),) if match[3] == "H2" else ()


def vpr_path_year(relative_path: str) -> int | None:
    """The year of a ВПР workbook from its place: the folder vpr/<YYYY>/, else a year in its file name."""
    folder = VPR_YEAR_FOLDER.match(relative_path)
    if folder:
        return int(folder[1])
    named = YEAR_IN_NAME.search(relative_path.rsplit("/", 1)[-1]) if relative_path.startswith("vpr/") else None
    return int(named[1]) if named else None


def campaign_of_file(relative_path: str, landing_dir: Path | None = None) -> str | None:
    """The campaign a ВПР or ГИА file belongs to, from its place in the landing folder; a РЦОИ list
    («ведомость», any name under gia/) by the date in its title row, when `landing_dir` is given."""
    if relative_path.startswith("vpr/") and relative_path.endswith(".xlsx"):
        year = vpr_path_year(relative_path)
        return campaign_for_year(year) if year else None
    for pattern in YEAR_OF_CAMPAIGN_FILE:
        match = pattern.match(relative_path)
        if match:
            return campaign_for_year(int(match[1]))
    if landing_dir is not None and relative_path.startswith("gia/") and relative_path.lower().endswith(".csv"):
        from pipelines.ingest.gia_lists import list_year  # pandas and the layout: only when a list is seen

        year = list_year(Path(landing_dir) / relative_path)
        return campaign_for_year(year) if year else None
    return None


def campaigns_in_landing(landing_dir: Path) -> list[str]:
    """Campaigns that have at least one ВПР or ГИА file in the landing folder, oldest first."""
    found = {
        campaign_of_file(file, landing_dir) for file in landing_files(landing_dir) if file.startswith(("vpr/", "gia/"))
    }
    valid = set(CAMPAIGN_KEYS)
    return sorted(found & valid)
