"""How students' abilities become task scores, and how planted cases move scores afterwards.

ВПР: each task point is earned with probability sigmoid(slope·ability − task location); a task's
location depends on its difficulty (базовый < повышенный < высокий, so harder tasks succeed less) plus a
per-work offset. Slope and offset are calibrated so that a reference population gets realistic shares
of marks «2» and «5»; each ГИА exam gets one slope and location the same way. Journal marks come from the
ability through the thresholds at which the expected primary score reaches each cut score, so they
follow true ability, not the ВПР mark.

Calibration uses a fixed internal random stream, so a work's model never depends on the user's seed.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from pipelines.synth.randomness import stream
from pipelines.synth.specs import GiaExam, VprWork, vpr_work

DIFFICULTY_LOCATION = {"базовый": -1.2, "повышенный": 0.2, "высокий": 1.2}
# Shares of marks «2» and «5» in the reference population, by grade (about the national ВПР figures).
TARGET_VPR_FAIL_SHARE = {4: 0.04, 5: 0.08, 6: 0.09, 7: 0.11, 8: 0.10}
TARGET_VPR_TOP_SHARE = {4: 0.24, 5: 0.17, 6: 0.15, 7: 0.12, 8: 0.10}
REFERENCE_ABILITY_SD = 1.2
DEFAULT_SLOPE = 1.1
CALIBRATION_SEED = 20190401
NOT_ATTEMPTED = -1


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _reference_abilities(*purpose: object, size: int = 4000) -> np.ndarray:
    return stream(CALIBRATION_SEED, "reference", *purpose).normal(0, REFERENCE_ABILITY_SD, size)


def _bisect(share_at, target: float, low: float, high: float, iterations: int = 20) -> float:
    """The argument at which share_at (increasing) reaches target."""
    for _ in range(iterations):
        middle = (low + high) / 2
        low, high = (middle, high) if share_at(middle) < target else (low, middle)
    return (low + high) / 2


def _calibrate(
    totals_at, fail_below: int, top_from: int | None, fail_share: float, top_share: float | None
) -> tuple[float, float]:
    """(slope, offset) of the item model giving the target shares of failures and of the top mark.

    `totals_at(slope, offset)` simulates the reference population's primary scores. A steeper slope
    spreads scores, so with the failure share held the top share grows with it.
    """

    def offset_for(slope: float) -> float:
        return _bisect(lambda offset: float((totals_at(slope, offset) < fail_below).mean()), fail_share, -8.0, 8.0)

    if top_share is None:
        return DEFAULT_SLOPE, offset_for(DEFAULT_SLOPE)
    slope = _bisect(lambda s: float((totals_at(s, offset_for(s)) >= top_from).mean()), top_share, 0.2, 3.0, 12)
    return slope, offset_for(slope)


@dataclass(frozen=True)
class VprModel:
    work: VprWork
    slope: float
    location: np.ndarray  # per task, calibrated offset included
    journal_thresholds: np.ndarray  # ability at which the expected primary score reaches cut_3, cut_4, cut_5

    def expected_primary(self, ability: np.ndarray) -> np.ndarray:
        p = sigmoid(self.slope * ability[:, None] - self.location[None, :])
        return (p * self.work.task_max[None, :]).sum(axis=1)

    @property
    def mark_width(self) -> float:
        """Ability units per mark (between the «3» and «5» thresholds), to express effects in marks."""
        return float(self.journal_thresholds[2] - self.journal_thresholds[0]) / 2


@cache
def vpr_model(code: str, year: int) -> VprModel:
    work = vpr_work(code, year)
    jitter = stream(CALIBRATION_SEED, "task-jitter", code, work.max_primary_score).normal(0, 0.3, len(work.task_max))
    base = np.array([DIFFICULTY_LOCATION[d] for d in work.task_difficulty]) + jitter
    ability = _reference_abilities("vpr", code)
    points = np.repeat(np.arange(len(work.task_max)), work.task_max)
    uniforms = stream(CALIBRATION_SEED, "uniforms", code, work.max_primary_score).random((len(ability), len(points)))

    def totals_at(slope: float, offset: float) -> np.ndarray:
        return (uniforms < sigmoid(slope * ability[:, None] - (base + offset)[None, :])[:, points]).sum(axis=1)

    slope, offset = _calibrate(
        totals_at, work.cuts[0], work.cuts[2], TARGET_VPR_FAIL_SHARE[work.grade], TARGET_VPR_TOP_SHARE[work.grade]
    )
    model = VprModel(work, slope, base + offset, np.zeros(3))
    grid = np.linspace(-8, 8, 3201)
    thresholds = grid[np.searchsorted(model.expected_primary(grid), np.asarray(work.cuts, dtype=float))]
    return VprModel(work, slope, base + offset, thresholds)


def draw_task_scores(
    rng: np.random.Generator, model: VprModel, ability: np.ndarray, location_shift: np.ndarray
) -> np.ndarray:
    """Task scores (int8, NOT_ATTEMPTED for a task left blank), one row per participant.

    `location_shift` (participants × tasks) makes tasks harder (+) or easier (−) for planted cases.
    About 3 % of cells are not attempted, more often by weaker students and on harder tasks.
    """
    logit = model.slope * ability[:, None] - model.location[None, :] - location_shift
    scores = rng.binomial(model.work.task_max[None, :].astype(np.int64), sigmoid(logit)).astype(np.int8)
    skip_logit = -4.3 - 0.6 * ability[:, None] + 0.5 * (model.location[None, :] > 0)
    scores[rng.random(scores.shape) < sigmoid(skip_logit)] = NOT_ATTEMPTED
    return scores


def primary_scores(scores: np.ndarray) -> np.ndarray:
    return np.where(scores == NOT_ATTEMPTED, 0, scores).sum(axis=1).astype(np.int16)


def move_totals(rng: np.random.Generator, scores: np.ndarray, task_max: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Scores changed point by point on random tasks until each row's primary score equals its target.

    Points are added to tasks below their maximum (a blank task becomes attempted) and taken from tasks
    with points, so every row stays a valid form. Targets are clipped to 0…maximum.
    """
    scores = scores.copy()
    targets = np.clip(targets, 0, int(task_max.sum()))
    for _ in range(int(task_max.sum())):
        delta = targets - primary_scores(scores)
        if not delta.any():
            break
        up, down = delta > 0, delta < 0
        eligible = np.where(up[:, None], scores < task_max[None, :], scores > 0) & (up | down)[:, None]
        choice = np.argmax(eligible * rng.random(scores.shape), axis=1)
        rows = np.flatnonzero(eligible.any(axis=1))
        cells = scores[rows, choice[rows]]
        cells = np.where(up[rows], np.maximum(cells, 0) + 1, cells - 1)
        scores[rows, choice[rows]] = cells
    return scores


JOURNAL_GENEROSITY, JOURNAL_NOISE = 0.35, 0.45


def journal_marks(rng: np.random.Generator, model: VprModel, ability: np.ndarray, leniency: np.ndarray) -> np.ndarray:
    """The previous term's mark 2–5 from true ability; journals are on average a little generous."""
    latent = ability + JOURNAL_GENEROSITY + leniency + rng.normal(0, JOURNAL_NOISE, len(ability))
    return (2 + np.searchsorted(model.journal_thresholds, latent)).astype(np.int8)


PROFILE_MATHS_THRESHOLD = 0.3  # students above it (with noise) choose profile maths over base maths
PROFILE_CHOICE_NOISE = 0.7


def chooses_profile_maths(rng: np.random.Generator, ability: np.ndarray) -> np.ndarray:
    return ability + rng.normal(0, PROFILE_CHOICE_NOISE, len(ability)) > PROFILE_MATHS_THRESHOLD


@cache
def gia_parameters(exam: GiaExam, year: int, population: str = "all") -> tuple[float, float]:
    """(slope, location) giving the exam's target shares of failures and top marks among its takers.

    `population` is 'all', or 'profile'/'base' for the students choosing profile or base maths.
    """
    ability = _reference_abilities("gia", exam.label)
    if population != "all":
        profile = chooses_profile_maths(stream(CALIBRATION_SEED, "profile-choice"), ability)
        ability = ability[profile if population == "profile" else ~profile]
    uniforms = stream(CALIBRATION_SEED, "gia-uniforms", exam.label).random((len(ability), exam.max_primary_score))

    def totals_at(slope: float, offset: float) -> np.ndarray:
        return (uniforms < sigmoid(slope * ability - offset)[:, None]).sum(axis=1)

    top_from = exam.mark_cuts[2] if exam.mark_cuts else None
    return _calibrate(
        totals_at, exam.lowest_passing_primary(year), top_from, exam.target_fail_share, exam.target_top_share
    )


def draw_gia_primary(
    rng: np.random.Generator, exam: GiaExam, parameters: tuple[float, float], ability: np.ndarray
) -> np.ndarray:
    slope, location = parameters
    return rng.binomial(exam.max_primary_score, sigmoid(slope * ability - location)).astype(np.int16)
