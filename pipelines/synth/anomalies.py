"""The anomaly model of the generator, read from anomalies.yml: one named profile per use.

A profile says, per planted case, how many schools get it, how strongly (named strengths with their
effects), in how many works a year and for how many years; and, for the whole profile, the school
population it is meant for and how ВПР participant rows are written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

ANOMALIES_FILE = Path(__file__).with_name("anomalies.yml")
DEFAULT_PROFILE = "default"
SMALL_WORK_SIZE = 15  # a work with fewer participants is a small school's («small» size class)
SIZE_CLASSES = ("small", "normal")
VPR_PARTICIPANT_FILES = ("layout", "parquet")


def size_class(participants: int) -> str:
    return "small" if participants < SMALL_WORK_SIZE else "normal"


@dataclass(frozen=True)
class CaseSpec:
    """One case of a profile: its school count, extent and named strengths (effect parameters)."""

    share: float
    minimum: int
    years: int = 1
    works: int | None = None  # None: all the school's works
    strengths: dict[str, dict[str, float]] = field(default_factory=dict)
    gain_per_year: float = 0.0
    hard_task_works: bool = False  # only works with advanced or high tasks

    def count(self, n_schools: int) -> int:
        return max(self.minimum, round(self.share * n_schools))


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    scale: str
    min_planted_participants: int
    by_size_class: bool
    vpr_participant_files: str
    oracle: bool
    cases: dict[str, CaseSpec]

    def count(self, case: str, n_schools: int) -> int:
        spec = self.cases.get(case)
        return spec.count(n_schools) if spec else 0

    def cells(self, case: str, n_schools: int) -> list[tuple[str, str | None, int]]:
        """(strength, size class or None for any, schools) for each cell a ВПР case is planted in.

        The case's count is split evenly over its strengths and, with `by_size_class`, the size classes.
        """
        spec = self.cases[case]
        sizes: tuple[str | None, ...] = SIZE_CLASSES if self.by_size_class else (None,)
        cells = [(strength, size) for strength in spec.strengths for size in sizes]
        per_cell = max(spec.minimum, round(spec.share * n_schools / len(cells))) if len(cells) > 1 else None
        return [(strength, size, per_cell or spec.count(n_schools)) for strength, size in cells]

    def effect(self, case: str, strength: str) -> dict[str, float]:
        return self.cases[case].strengths[strength]


def _case(raw: dict) -> CaseSpec:
    works = raw.get("works")
    return CaseSpec(
        share=float(raw["share"]),
        minimum=int(raw["minimum"]),
        years=int(raw.get("years", 1)),
        works=None if works in (None, "all") else int(works),
        strengths={name: {k: float(v) for k, v in effect.items()} for name, effect in raw.get("strengths", {}).items()},
        gain_per_year=float(raw.get("gain_per_year", 0.0)),
        hard_task_works=bool(raw.get("hard_task_works", False)),
    )


@cache
def profiles() -> dict[str, Profile]:
    raw = yaml.safe_load(ANOMALIES_FILE.read_text(encoding="utf-8"))
    result = {}
    for name, spec in raw["profiles"].items():
        if spec["vpr_participant_files"] not in VPR_PARTICIPANT_FILES:
            raise ValueError(f"{ANOMALIES_FILE.name}: {name}: vpr_participant_files not in {VPR_PARTICIPANT_FILES}")
        result[name] = Profile(
            name=name,
            description=" ".join(spec["description"].split()),
            scale=spec["scale"],
            min_planted_participants=int(spec["min_planted_participants"]),
            by_size_class=bool(spec["by_size_class"]),
            vpr_participant_files=spec["vpr_participant_files"],
            oracle=bool(spec.get("oracle", False)),
            cases={case: _case(c) for case, c in spec["cases"].items()},
        )
    return result


def profile(name: str) -> Profile:
    known = profiles()
    if name not in known:
        raise ValueError(f"unknown anomaly profile {name!r}; expected one of {', '.join(known)}")
    return known[name]
