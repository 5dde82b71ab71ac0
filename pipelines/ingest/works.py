"""The ВПР works of each year as the rules seeds specify them: task list, maxima and conversion scale.

The seeds (`dbt_project/seeds/vpr_works.csv`, `vpr_tasks.csv`) are the one place where works are
configured; dbt converts primary scores to marks from them, ingestion checks a file's tasks against
them, and the generator writes its forms from them. A file of a work or year the seeds do not cover is
quarantined with a message saying which rows to add.
"""

from __future__ import annotations

import csv
import functools
import hashlib
from dataclasses import dataclass

from pipelines.common import SEEDS_DIR

WORK_SEEDS = ("vpr_works.csv", "vpr_tasks.csv")


@dataclass(frozen=True)
class WorkSpec:
    """One ВПР work as configured for one year."""

    code: str
    year_from: int
    year_to: int
    max_primary_score: int
    cuts: tuple[int, int, int]  # lowest primary scores for marks 3, 4 and 5
    task_labels: tuple[str, ...]
    task_max: tuple[int, ...]

    @property
    def versions(self) -> str:
        return f"{self.year_from}–{self.year_to}"


def read_seed(name: str) -> list[dict[str, str]]:
    with open(SEEDS_DIR / name, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@functools.cache
def _specs() -> dict[str, list[WorkSpec]]:
    works, tasks = (read_seed(name) for name in WORK_SEEDS)
    specs: dict[str, list[WorkSpec]] = {}
    for row in works:
        task_rows = sorted(
            (t for t in tasks if t["work_code"] == row["work_code"] and t["year_from"] == row["year_from"]),
            key=lambda t: int(t["task_order"]),
        )
        specs.setdefault(row["work_code"], []).append(
            WorkSpec(
                code=row["work_code"],
                year_from=int(row["year_from"]),
                year_to=int(row["year_to"]),
                max_primary_score=int(row["max_primary_score"]),
                cuts=(int(row["cut_3"]), int(row["cut_4"]), int(row["cut_5"])),
                task_labels=tuple(t["task_number"] for t in task_rows),
                task_max=tuple(int(t["max_score"]) for t in task_rows),
            )
        )
    return specs


def work_spec(code: str, year: int) -> WorkSpec | None:
    """The work as configured for the year, or None when the seeds do not cover it."""
    for spec in _specs().get(code, []):
        if spec.year_from <= year <= spec.year_to:
            return spec
    return None


def configured_years(code: str) -> list[str]:
    """The year ranges the seeds configure for a work (empty when the work is not configured at all)."""
    return [spec.versions for spec in _specs().get(code, [])]


@functools.cache
def seeds_fingerprint() -> str:
    """Identifies the configured works: a file quarantined against one version is read again after a change."""
    digest = hashlib.sha256()
    for name in WORK_SEEDS:
        digest.update((SEEDS_DIR / name).read_bytes())
    return digest.hexdigest()
