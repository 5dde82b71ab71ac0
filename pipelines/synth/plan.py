"""Planted cases: which schools get which manipulation or pattern, in which years and works.

Every case goes to a different school, chosen deterministically from the seed; each scale gets a number
proportional to its size (at least one or two per case at municipality scale). The plan tells the ВПР
and ГИА generators what to change; `truth.py` writes it to `ground_truth/planted.csv`.

ШНОР cases control the exact number of «2» in the planted works and keep the school's other works below
30 % where the case requires it, so each school meets exactly the criterion it was planted for:

- shnor_two_works_prev_year: two low works in Y−1 (one instance at exactly 30 %, the boundary that counts);
  nothing low in Y−2.
- shnor_works_in_two_years: one low work in Y−2 and one in Y−1, nothing else low in Y−1.
- shnor_near_miss: one work just under 30 % in Y−1 (e.g. 9 of 31), nothing low in Y−1 or Y−2, so the
  school is not on list Y.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from pipelines.synth.anomalies import DEFAULT_PROFILE, Profile, profile, size_class
from pipelines.synth.randomness import stream
from pipelines.synth.schools import TAKES_EGE, TAKES_OGE, Schools
from pipelines.synth.specs import FIOKO_GIA_LABELS, FIOKO_VPR_WORKS, MARKER_COLUMNS, fioko_vpr_label, vpr_work

SHNOR_CASES = ("shnor_two_works_prev_year", "shnor_works_in_two_years", "shnor_near_miss")
VPR_CASES = (
    "vpr_inflated_level",
    "vpr_lenient_grading_at_cuts",
    "vpr_help_on_hard_tasks",
    "vpr_above_journal",
    "vpr_jump_then_fall",
)
# Group sizes where one «2» fewer than the 30 % threshold is still 28–30 %: 2/7, 5/17, 7/24, 9/31, …
NEAR_MISS_SIZES = np.array([7, 17, 24, 27, 31, 34, 37, 41, 44, 47, 51, 54, 57, 61])
FIRST_MARKERS_YEAR = 2021  # FIOKO publishes objectivity markers from the 2021 ВПР on
SELECTIVE_TYPES = ("гимназия", "лицей", "СОШ с УИОП")


def low_fail_count(n: int) -> int:
    """The fewest «2» that make a work low: 10·fails ≥ 3·n (integer arithmetic, so 30 % exactly counts)."""
    return (3 * n + 9) // 10


@dataclass(frozen=True)
class Plant:
    """One planted case in one school (position in `Schools`), year and work."""

    school: int
    case: str
    year: int | None  # the results year the case is planted in
    work: str | None  # ВПР work code for ВПР cases, FIOKO work label for ШНОР cases
    list_year: int | None = None
    note: str = ""
    strength: str = ""  # the named strength of anomalies.yml for ВПР cases


@dataclass(frozen=True)
class FailControl:
    """How many «2» a planted work must have: 'low' (share ≥ 30 %), 'near_miss' or 'not_low'."""

    kind: str
    share: float = 0.0


@dataclass
class Plan:
    """Every planted case, and what the generators must enforce for them."""

    plants: list[Plant] = field(default_factory=list)
    # (year, FIOKO label) → school → control
    fail_controls: dict[tuple[int, str], dict[int, FailControl]] = field(default_factory=lambda: defaultdict(dict))
    # (year, group) → school → participants, where group is a ВПР work code, 'grade9' or 'grade11'
    sizes: dict[tuple[int, str], dict[int, int]] = field(default_factory=lambda: defaultdict(dict))
    passport_inconsistent: tuple[int, int] | None = None  # (school, year)
    profile: Profile = field(default_factory=lambda: profile(DEFAULT_PROFILE))
    # improving schools: school → yearly gain of the true level (ability SD) from `first_year`
    level_gains: dict[int, float] = field(default_factory=dict)
    first_year: int = 0

    def effect(self, p: Plant) -> dict[str, float]:
        """The effect parameters of a planted ВПР case (anomalies.yml)."""
        return self.profile.effect(p.case, p.strength)

    def level_shift(self, year: int, n_schools: int) -> np.ndarray | float:
        """How far each school's true level is above its base level in a year (improving schools)."""
        if not self.level_gains:
            return 0.0
        shift = np.zeros(n_schools)
        for school, gain in self.level_gains.items():
            shift[school] = gain * (year - self.first_year)
        return shift

    def vpr_plants(self, year: int, work: str) -> list[Plant]:
        return [p for p in self.plants if p.case in VPR_CASES and p.year == year and p.work == work]

    def marker_works(self, year: int) -> dict[int, set[str]]:
        """Schools FIOKO marks for a year's ВПР: every planted ВПР case on a marker work."""
        marked: dict[int, set[str]] = defaultdict(set)
        for p in self.plants:
            if p.case in VPR_CASES and p.year == year and p.work in MARKER_COLUMNS.values():
                marked[p.school].add(p.work)
        return marked


def _group_of(label: str) -> str:
    """The participant group whose size a FIOKO work's count follows."""
    if label.startswith("ВПР "):
        return label.removeprefix("ВПР ")
    return "grade9" if label.startswith("ОГЭ") else "grade11"


def _controllable_labels(
    schools: Schools, school: int, works: tuple[str, ...], year: int, with_ege: bool = True
) -> list[str]:
    """FIOKO works whose participant count the plan can set: ВПР 5–6, ОГЭ (not 2020 school marks), ЕГЭ RU.

    ЕГЭ RU is left out in 2020, when only part of grade 11 sat it.
    """
    school_type = schools.registry["school_type"].iat[school]
    grades = schools.vpr_grades(school)
    labels = [fioko_vpr_label(w) for w in FIOKO_VPR_WORKS if w in works and int(w[2:]) in grades]
    if school_type in TAKES_OGE and year != 2020:
        labels += ["ОГЭ RU", "ОГЭ MA"]
    if school_type in TAKES_EGE and year != 2020 and with_ege:
        labels.append("ЕГЭ RU")
    return labels


class _Planner:
    """Chooses the schools, years and works of every case, one school per case."""

    def __init__(self, schools: Schools, years: list[int], works: tuple[str, ...], seed: int, anomalies: Profile):
        self.schools, self.years, self.works = schools, years, works
        self.rng = stream(seed, "plan")
        self.plan = Plan(profile=anomalies, first_year=years[0])
        self.profile = anomalies
        registry = schools.registry
        self.whole_range = (registry["opened_year"] <= years[0]).to_numpy()
        self.taken = np.zeros(len(schools), dtype=bool)
        self.natural_size = schools.cohort_size

    def count(self, case: str) -> int:
        return self.profile.count(case, len(self.schools))

    def pick(self, candidates: np.ndarray, weights: np.ndarray, count: int) -> list[int]:
        candidates = candidates[~self.taken[candidates]]
        if len(candidates) == 0:
            return []
        chosen = self.rng.choice(
            candidates,
            size=min(count, len(candidates)),
            replace=False,
            p=weights[candidates] / weights[candidates].sum(),
        )
        self.taken[chosen] = True
        return sorted(int(c) for c in chosen)

    def set_size(self, year: int, label: str, school: int, size: int) -> None:
        """The first planted size of a group wins (ОГЭ RU and MA share grade 9, so a boundary size stays)."""
        self.plan.sizes[(year, _group_of(label))].setdefault(school, int(size))

    def control(self, year: int, label: str, school: int, control: FailControl) -> None:
        self.plan.fail_controls[(year, label)][school] = control

    def keep_not_low(self, year: int, school: int, except_label: str | None = None) -> None:
        if year not in self.years:
            return
        for label in _all_fioko_labels():
            if label != except_label:
                self.control(year, label, school, FailControl("not_low"))

    def plant_low(self, school: int, case: str, year: int, label: str, list_year: int, boundary: bool) -> None:
        """A low work at the school's usual size; the boundary instance has exactly 30 % (n a multiple of 10)."""
        natural = max(5, round(self.natural_size[school]))
        size = max(10, round(natural, -1)) if boundary else natural
        share = 0.30 if boundary else float(self.rng.uniform(0.34, 0.5))
        self.set_size(year, label, school, size)
        self.control(year, label, school, FailControl("low", share))
        note = "boundary: exactly 30 %" if boundary else ""
        self.plan.plants.append(Plant(school, case, year, label, list_year, note))

    def shnor_candidates(self, with_two_years: bool) -> tuple[np.ndarray, list[int]]:
        list_years = [y + 1 for y in self.years if (not with_two_years or y - 1 in self.years)]
        types = self.schools.registry["school_type"].to_numpy()
        eligible = self.whole_range & np.isin(types, list(TAKES_OGE))
        return np.flatnonzero(eligible), list_years

    def plant_shnor(self) -> None:
        weights = np.exp(-1.0 * self.schools.context)
        candidates, list_years = self.shnor_candidates(with_two_years=False)
        for i, school in enumerate(self.pick(candidates, weights, self.count("shnor_two_works_prev_year"))):
            list_year = int(self.rng.choice(list_years))
            labels = self.rng.permutation(_controllable_labels(self.schools, school, self.works, list_year - 1))
            if len(labels) < 2:
                continue
            for j, label in enumerate(labels[:2]):
                self.plant_low(
                    school,
                    "shnor_two_works_prev_year",
                    list_year - 1,
                    str(label),
                    list_year,
                    boundary=(i == 0 and j == 0),
                )
            self.keep_not_low(list_year - 2, school)

        candidates, list_years = self.shnor_candidates(with_two_years=True)
        if list_years:
            for school in self.pick(candidates, weights, self.count("shnor_works_in_two_years")):
                list_year = int(self.rng.choice(list_years))
                previous_labels = _controllable_labels(self.schools, school, self.works, list_year - 1)
                earlier_labels = _controllable_labels(self.schools, school, self.works, list_year - 2)
                if not previous_labels or not earlier_labels:
                    continue
                previous, earlier = str(self.rng.choice(previous_labels)), str(self.rng.choice(earlier_labels))
                self.keep_not_low(list_year - 1, school, except_label=previous)
                self.plant_low(school, "shnor_works_in_two_years", list_year - 1, previous, list_year, False)
                self.plant_low(school, "shnor_works_in_two_years", list_year - 2, earlier, list_year, False)

        candidates, list_years = self.shnor_candidates(with_two_years=False)
        for school in self.pick(candidates, np.exp(0.5 * self.schools.context), self.count("shnor_near_miss")):
            list_year = int(self.rng.choice(list_years))
            year = list_year - 1
            labels = _controllable_labels(self.schools, school, self.works, year, with_ege=False)
            if not labels:
                continue
            label = str(self.rng.choice(labels))
            size = int(NEAR_MISS_SIZES[np.argmin(np.abs(NEAR_MISS_SIZES - self.natural_size[school]))])
            self.keep_not_low(year, school, except_label=label)
            self.keep_not_low(year - 1, school)
            self.set_size(year, label, school, size)
            self.control(year, label, school, FailControl("near_miss"))
            self.plan.plants.append(Plant(school, "shnor_near_miss", year, label, list_year))

    def vpr_candidates(self) -> np.ndarray:
        """Non-selective schools of average or lower results with ВПР works, large enough when possible.

        A planted group has at least the profile's `min_planted_participants`, so schools that size already
        are preferred: their cohort does not jump in the planted year. A profile planting by size class
        takes small schools too: each cell then draws from its own size class.
        """
        types = self.schools.registry["school_type"].to_numpy()
        has_vpr = np.array([bool(self.school_works(i)) for i in range(len(self.schools))])
        average_or_below = self.schools.ability < np.quantile(self.schools.ability, 0.7)
        eligible = self.whole_range & has_vpr & ~np.isin(types, SELECTIVE_TYPES) & average_or_below & ~self.taken
        if self.profile.by_size_class:
            return np.flatnonzero(eligible)
        large = eligible & (self.natural_size >= self.profile.min_planted_participants)
        needed = sum(self.count(case) for case in VPR_CASES)
        return np.flatnonzero(large if large.sum() >= 2 * needed else eligible)

    def school_works(self, school: int) -> list[str]:
        grades = self.schools.vpr_grades(school)
        return [w for w in self.works if int(w[2:]) in grades]

    def consecutive_years(self, length: int) -> list[int]:
        """A run of years, within the FIOKO marker years (2021 on) when the range allows."""
        pool = [y for y in self.years if y >= FIRST_MARKERS_YEAR]
        pool = pool if len(pool) >= length else self.years
        start = int(self.rng.integers(0, max(1, len(pool) - length + 1)))
        return pool[start : start + length]

    def choose_works(self, school: int, count: int, hard_tasks_only: bool = False) -> list[str]:
        """Works for a ВПР case, a marker work (4–5 RU/MA) first so FIOKO's list can show it; with
        `hard_tasks_only`, only works with advanced or high tasks in the last year."""
        works = self.school_works(school)
        if hard_tasks_only:
            works = [w for w in works if set(vpr_work(w, self.years[-1]).task_difficulty) != {"базовый"}] or works
        markers = [w for w in works if w in MARKER_COLUMNS.values()]
        first = str(self.rng.choice(markers or works))
        rest = [w for w in works if w != first]
        return [first] + [str(w) for w in self.rng.permutation(rest)[: count - 1]]

    def planted_size(self, school: int) -> int:
        """Participants of each planted work: about the school's usual number, at least the profile's minimum."""
        return max(self.profile.min_planted_participants, round(self.natural_size[school] * 0.93))

    def plant_vpr(
        self, case: str, school: int, years: list[int], works: list[str], strength: str, note: str = ""
    ) -> None:
        for year in years:
            for work in works:
                self.set_size(year, f"ВПР {work}", school, self.planted_size(school))
                self.plan.plants.append(Plant(school, case, year, work, None, note, strength))

    def plant_objectivity(self) -> None:
        candidates = self.vpr_candidates()
        weights = np.minimum(self.natural_size, 40.0)
        sizes = np.array([size_class(self.planted_size(s)) for s in range(len(self.schools))])
        for case in VPR_CASES:
            spec = self.profile.cases[case]
            jump = case == "vpr_jump_then_fall"
            if jump and len(self.years) < 3:
                continue
            for strength, size, count in self.profile.cells(case, len(self.schools)):
                pool = candidates if size is None else candidates[sizes[candidates] == size]
                for school in self.pick(pool, weights, count):
                    if jump:
                        inner = self.years[1:-1]
                        year = int(self.rng.choice([y for y in inner if y >= FIRST_MARKERS_YEAR] or inner))
                        note = f"gain in {year}, back to the usual level in {year + 1}"
                        self.plant_vpr(case, school, [year], self.school_works(school), strength, note)
                        continue
                    years = self.consecutive_years(spec.years)
                    count = spec.works or len(self.school_works(school))
                    works = self.choose_works(school, count, spec.hard_task_works)
                    self.plant_vpr(case, school, years, works, strength)

    def plant_honest_high_performers(self) -> None:
        """The best selective school (gymnasium, lyceum, УИОП), then the best of those and high-context schools."""
        types = self.schools.registry["school_type"].to_numpy()
        selective = np.isin(types, SELECTIVE_TYPES)
        high_context = self.schools.context > np.quantile(self.schools.context, 0.9)
        has_vpr = np.array([bool(self.school_works(i)) for i in range(len(self.schools))])
        eligible = self.whole_range & has_vpr & ~self.taken
        by_ability = np.argsort(-self.schools.ability, kind="stable")
        best_selective = [s for s in by_ability if eligible[s] and selective[s]][:1]
        others = [
            s for s in by_ability if eligible[s] and (selective[s] or high_context[s]) and s not in best_selective
        ]
        chosen = sorted(int(s) for s in (best_selective + others)[: self.count("honest_high_performer")])
        self.taken[chosen] = True
        for school in chosen:
            for year in self.years:
                self.plan.plants.append(
                    Plant(
                        school,
                        "honest_high_performer",
                        year,
                        None,
                        None,
                        "high results confirmed by ОГЭ/ЕГЭ and journal marks",
                    )
                )

    def plant_improving_schools(self) -> None:
        """Ordinary schools whose true level rises every year in every grade, ВПР, journal and ГИА alike."""
        count = self.count("improving_school")
        if not count:
            return
        gain = self.profile.cases["improving_school"].gain_per_year
        types = self.schools.registry["school_type"].to_numpy()
        has_vpr = np.array([bool(self.school_works(i)) for i in range(len(self.schools))])
        eligible = np.flatnonzero(self.whole_range & has_vpr & np.isin(types, list(TAKES_OGE)))
        for school in self.pick(eligible, np.ones(len(self.schools)), count):
            self.plan.level_gains[school] = gain
            for year in self.years:
                rise = gain * (year - self.years[0])
                note = f"true level +{rise:.2f} SD over {self.years[0]}, confirmed by journal marks and ОГЭ/ЕГЭ"
                self.plan.plants.append(Plant(school, "improving_school", year, None, None, note))

    def plant_passport_inconsistency(self) -> None:
        existing = np.flatnonzero(self.whole_range & (self.schools.registry["enrolment"].to_numpy() >= 100))
        school = int(self.rng.choice(existing if len(existing) else np.flatnonzero(self.whole_range)))
        self.plan.passport_inconsistent = (school, int(self.rng.choice(self.years)))

    def note_new_schools(self) -> None:
        opened = self.schools.registry["opened_year"].to_numpy()
        for school in np.flatnonzero(opened > self.years[0]):
            self.plan.plants.append(
                Plant(
                    int(school),
                    "new_school_opened",
                    int(opened[school]),
                    None,
                    None,
                    f"opened in {opened[school]}: results from {opened[school]} only",
                )
            )


def _all_fioko_labels() -> tuple[str, ...]:
    return tuple(fioko_vpr_label(w) for w in FIOKO_VPR_WORKS) + FIOKO_GIA_LABELS


def make_plan(
    schools: Schools, years: list[int], works: tuple[str, ...], seed: int, anomalies: Profile | None = None
) -> Plan:
    planner = _Planner(schools, years, works, seed, anomalies or profile(DEFAULT_PROFILE))
    planner.plant_honest_high_performers()
    planner.plant_shnor()
    planner.plant_objectivity()
    planner.plant_improving_schools()
    planner.plant_passport_inconsistency()
    planner.note_new_schools()
    return planner.plan
