"""ВПР participant rows for one work in one year, all schools at once (vectorised).

A student's true ability is the school's mean ability plus a cohort effect, a year effect and individual
noise. The ВПР is scored from that ability, changed by the planted cases of the year; the journal mark
comes from the true ability and the school's leniency, so a manipulated ВПР shows up against it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipelines.synth.plan import FailControl, Plan, low_fail_count
from pipelines.synth.randomness import participant_codes, stream
from pipelines.synth.schools import Schools
from pipelines.synth.scoring import (
    VprModel,
    draw_task_scores,
    journal_marks,
    move_totals,
    primary_scores,
    vpr_model,
)
from pipelines.synth.specs import VprWork, fioko_vpr_label

# Results dipped after the 2020 school closures (the 2020 ВПР was written in the autumn).
YEAR_EFFECT = {2020: -0.2, 2021: -0.1}
CLASS_SIZE = 25
CLASS_LETTERS = "АБВГДЕЖЗИКЛМН"
JOURNAL_MISSING_SHARE = 0.02


@dataclass
class VprBatch:
    """Every participant row of one work in one year, ordered by school (positions in `Schools`)."""

    year: int
    work: VprWork
    school: np.ndarray  # int32
    offsets: np.ndarray  # rows of school s are offsets[s]:offsets[s + 1]
    codes: np.ndarray  # S10
    class_index: np.ndarray  # 0 → 'А'
    variant: np.ndarray
    female: np.ndarray
    scores: np.ndarray  # int8, NOT_ATTEMPTED for a blank task
    primary: np.ndarray
    mark: np.ndarray
    journal: np.ndarray  # 0 when the journal mark is missing
    latent_mean: np.ndarray  # per school: the mean ability of this year's students before any manipulation

    def __len__(self) -> int:
        return len(self.school)

    def participants(self) -> np.ndarray:
        return np.diff(self.offsets)

    def fails(self) -> np.ndarray:
        return np.bincount(self.school, weights=self.mark == 2, minlength=len(self.offsets) - 1).astype(int)


def participant_counts(
    schools: Schools, plan: Plan, cohorts: dict[int, np.ndarray], year: int, work: VprWork, seed: int
) -> np.ndarray:
    rng = stream(seed, "vpr-participants", year, work.code)
    takes = np.array([work.grade in schools.vpr_grades(i) for i in range(len(schools))])
    counts = np.where(takes, rng.binomial(cohorts[work.grade], schools.participation), 0)
    for school, size in plan.sizes.get((year, work.code), {}).items():
        counts[school] = size
    return counts


def _school_effects(plan: Plan, year: int, work: VprWork, n_schools: int) -> dict[str, np.ndarray]:
    """Per school: ability boosts and journal generosity in marks, and the task and cut effects, from the
    planted cases' strengths (anomalies.yml)."""
    names = ("boost", "weak_boost", "journal", "easy_shift", "hard_shift", "lenient_window", "lenient_share")
    effects = {name: np.zeros(n_schools) for name in names}
    effects["help"] = np.zeros(n_schools, dtype=bool)
    effects["lenient"] = np.zeros(n_schools, dtype=bool)
    for p in plan.vpr_plants(year, work.code):
        effect = plan.effect(p)
        if p.case in ("vpr_inflated_level", "vpr_jump_then_fall"):
            effects["boost"][p.school] = effect["boost"]
            effects["journal"][p.school] = effect.get("journal", 0.0)
        elif p.case == "vpr_above_journal":
            effects["weak_boost"][p.school] = effect["weak_boost"]
            effects["journal"][p.school] = effect["journal"]
        elif p.case == "vpr_help_on_hard_tasks":
            effects["help"][p.school] = True
            effects["easy_shift"][p.school] = effect["easy_shift"]
            effects["hard_shift"][p.school] = effect["hard_shift"]
        elif p.case == "vpr_lenient_grading_at_cuts":
            effects["lenient"][p.school] = True
            effects["lenient_window"][p.school] = effect["window"]
            effects["lenient_share"][p.school] = effect["share"]
    return effects


def _help_shift(model: VprModel, effects: dict[str, np.ndarray], school: np.ndarray) -> np.ndarray | float:
    """Easy tasks harder and hard tasks easier for rows of schools that help on hard tasks."""
    help_rows = effects["help"][school]
    if not help_rows.any():
        return 0.0
    easy = np.array([d == "базовый" for d in model.work.task_difficulty])
    easy_shift, hard_shift = effects["easy_shift"][school][:, None], effects["hard_shift"][school][:, None]
    return np.where(easy[None, :], easy_shift, hard_shift).astype(np.float32)


def _lenient_targets(
    rng: np.random.Generator,
    work: VprWork,
    primary: np.ndarray,
    rows: np.ndarray,
    window: np.ndarray,
    share: np.ndarray,
) -> tuple:
    """Scores up to `window` points under the cut for «3» or «4» pulled up to the cut (or one point above),
    for a `share` of the students there."""
    target = primary.copy()
    for cut in work.cuts[:2]:
        near = rows & (primary >= cut - window) & (primary < cut) & (rng.random(len(primary)) < share)
        target[near] = cut + (rng.random(int(near.sum())) < 0.3)
    changed = np.flatnonzero(target != primary)
    return changed, target[changed]


def planned_fail_count(control: FailControl, n: int, failing_now: int) -> int | None:
    """The number of «2» a controlled group must end with, or None when it may stay as it is."""
    just_under = low_fail_count(n) - 1
    if control.kind == "low":
        return max(low_fail_count(n), int(np.ceil(control.share * n - 1e-9)))
    if control.kind == "near_miss":
        return just_under
    return just_under if failing_now > just_under else None


def controlled_targets(
    rng: np.random.Generator,
    controls: dict[int, FailControl],
    offsets: np.ndarray,
    primary: np.ndarray,
    ranking: np.ndarray,
    passing: int,
    maximum: int,
) -> tuple:
    """Rows and new primary scores giving each controlled school its planned number of failures.

    The weakest students (by `ranking`) are the ones who fail; only rows on the wrong side move.
    """
    rows, targets = [np.array([], dtype=int)], [np.array([], dtype=int)]
    for school, control in sorted(controls.items()):
        start, stop = offsets[school], offsets[school + 1]
        failing = primary[start:stop] < passing
        k = planned_fail_count(control, stop - start, int(failing.sum()))
        if stop == start or k is None:
            continue
        should_fail = np.zeros(stop - start, dtype=bool)
        should_fail[np.argsort(ranking[start:stop], kind="stable")[:k]] = True
        drop = np.flatnonzero(should_fail & ~failing)
        lift = np.flatnonzero(~should_fail & failing)
        rows += [start + drop, start + lift]
        targets += [
            rng.integers(max(0, passing - 4), passing, len(drop)),
            rng.integers(passing, min(passing + 3, maximum) + 1, len(lift)),
        ]
    return np.concatenate(rows), np.concatenate(targets)


def generate_vpr(
    schools: Schools, plan: Plan, cohorts: dict[int, np.ndarray], year: int, work_code: str, seed: int
) -> VprBatch:
    model = vpr_model(work_code, year)
    work = model.work
    rng = stream(seed, "vpr", year, work_code)
    counts = participant_counts(schools, plan, cohorts, year, work, seed)
    school = np.repeat(np.arange(len(schools), dtype=np.int32), counts)
    offsets = np.concatenate([[0], np.cumsum(counts)])
    effects = _school_effects(plan, year, work, len(schools))
    for name in ("boost", "weak_boost", "journal"):
        effects[name] *= model.mark_width

    school_mean = (
        schools.ability
        + rng.normal(0, 0.15, len(schools))
        + YEAR_EFFECT.get(year, 0.0)
        + plan.level_shift(year, len(schools))
    )
    true_ability = school_mean[school] + rng.normal(0, 1.0, len(school))
    weak = true_ability < school_mean[school]
    vpr_ability = true_ability + effects["boost"][school] + effects["weak_boost"][school] * weak

    scores = draw_task_scores(rng, model, vpr_ability, _help_shift(model, effects, school))
    primary = primary_scores(scores)
    lenient = [effects[name][school] for name in ("lenient", "lenient_window", "lenient_share")]
    rows, targets = _lenient_targets(rng, work, primary, *lenient)
    scores[rows] = move_totals(rng, scores[rows], work.task_max, targets)
    primary = primary_scores(scores)
    controls = plan.fail_controls.get((year, fioko_vpr_label(work_code)), {})
    rows, targets = controlled_targets(
        rng,
        controls,
        offsets,
        primary,
        vpr_ability + rng.normal(0, 0.01, len(school)),
        work.cuts[0],
        work.max_primary_score,
    )
    scores[rows] = move_totals(rng, scores[rows], work.task_max, targets)
    primary = primary_scores(scores)

    journal = journal_marks(rng, model, true_ability, schools.journal_leniency[school] + effects["journal"][school])
    journal[rng.random(len(school)) < JOURNAL_MISSING_SHARE] = 0
    position = np.arange(len(school)) - offsets[school]
    classes = np.minimum(np.ceil(counts / CLASS_SIZE), len(CLASS_LETTERS)).astype(int)
    class_index = (position * classes[school] // np.maximum(counts[school], 1)).astype(np.int8)
    return VprBatch(
        year=year,
        work=work,
        school=school,
        offsets=offsets,
        codes=participant_codes(seed, f"vpr {work_code}", year, len(school)),
        class_index=class_index,
        variant=rng.integers(1, 3, len(school)).astype(np.int8),
        female=rng.random(len(school)) < 0.5,
        scores=scores,
        primary=primary,
        mark=work.marks_for(primary),
        journal=journal,
        latent_mean=school_mean,
    )
