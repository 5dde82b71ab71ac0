"""What a test that knows the generating model needs: per school, year and work, the expectation of a few
per-student statistics had the school not manipulated anything, beside their observed means.

The generator knows each school's latent mean ability of the year and work (its base level, the year's
noise, an improving school's gain), so for every statistic f it gives E[f] and SD[f] of one student under
no manipulation, and the participants' observed mean of f. docs/validation.md explains how the oracle
bound of the validation report turns these into a z statistic per school-year. Written to
ground_truth/oracle.csv by profiles that ask for it (anomalies.yml: `oracle: true`); the pipeline never
reads it.

The statistics point in the directions of the anomaly types:
- mark: the ВПР mark (2–5); raised by inflated levels, jumps and ВПР above the journal.
- cut: +1 for a primary score at the «3» or «4» cut or one point above, −1 for one up to three points
  under it, 0 elsewhere; raised by lenient grading at the cuts.
- help: the share of points earned on advanced and high tasks minus that on basic tasks; raised by help
  on hard tasks.
- gap: the ВПР mark minus the journal mark (students with one); raised by ВПР above the journal. Its
  expectation uses the school's journal leniency, which the oracle knows too.
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np
import pandas as pd

from pipelines.synth.randomness import stream
from pipelines.synth.scoring import (
    JOURNAL_GENEROSITY,
    JOURNAL_NOISE,
    NOT_ATTEMPTED,
    draw_task_scores,
    primary_scores,
    vpr_model,
)

STATISTICS = ("mark", "cut", "help", "gap")
CUT_WINDOW = 3  # the widest window of lenient grading in anomalies.yml
GRID = np.linspace(-5.0, 5.0, 201)  # student abilities the expectations are integrated over
DRAWS_PER_POINT = 400
ORACLE_SEED = 20260401
_CDF_GRID = np.linspace(-9.0, 9.0, 18001)
_CDF = np.array([0.5 * math.erfc(-x / math.sqrt(2)) for x in _CDF_GRID])


def _normal_cdf(x: np.ndarray) -> np.ndarray:
    return np.interp(x, _CDF_GRID, _CDF)


def per_student(code: str, year: int, scores: np.ndarray, primary: np.ndarray) -> dict[str, np.ndarray]:
    """Each ВПР-only statistic (all but gap) for each row of task scores of one work."""
    work = vpr_model(code, year).work
    cut = np.zeros(len(primary))
    for c in work.cuts[:2]:
        cut += ((primary >= c) & (primary <= c + 1)).astype(float)
        cut -= ((primary >= c - CUT_WINDOW) & (primary < c)).astype(float)
    earned = np.where(scores == NOT_ATTEMPTED, 0, scores).astype(float)
    basic = np.array([d == "базовый" for d in work.task_difficulty])
    task_max = work.task_max.astype(float)
    if basic.all() or not basic.any():  # a work with one kind of task: no contrast to help on
        help_share = np.zeros(len(primary))
    else:
        hard_share = earned[:, ~basic].sum(axis=1) / task_max[~basic].sum()
        help_share = hard_share - earned[:, basic].sum(axis=1) / task_max[basic].sum()
    return {"mark": work.marks_for(primary).astype(float), "cut": cut, "help": help_share}


@cache
def _moments_on_grid(code: str, year: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """E[f | ability] and E[f² | ability] on GRID, by simulation with the generator's own scoring."""
    model = vpr_model(code, year)
    rng = stream(ORACLE_SEED, "oracle", code, year)
    ability = np.repeat(GRID, DRAWS_PER_POINT)
    scores = draw_task_scores(rng, model, ability, 0.0)
    values = per_student(code, year, scores, primary_scores(scores))
    return {
        name: (v.reshape(len(GRID), -1).mean(axis=1), (v**2).reshape(len(GRID), -1).mean(axis=1))
        for name, v in values.items()
    }


def _journal_moments(code: str, year: int, leniency: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """E[J | ability] and E[J² | ability] on GRID per school (rows), J the journal mark 2–5.

    J = 2 + the number of journal thresholds below ability + generosity + leniency + noise: with P_k the
    chance to pass the k-th threshold, E[J] = 2 + Σ P_k and, the events being nested, E[J²] = 4 + Σ (2k+3) P_k.
    """
    thresholds = vpr_model(code, year).journal_thresholds
    latent = GRID[None, :, None] + JOURNAL_GENEROSITY + leniency[:, None, None]
    passing = _normal_cdf((latent - thresholds[None, None, :]) / JOURNAL_NOISE)
    k = np.arange(1, len(thresholds) + 1)
    return 2 + passing.sum(axis=2), 4 + (passing * (2 * k + 3)).sum(axis=2)


def expected(
    code: str, year: int, latent_mean: np.ndarray, leniency: np.ndarray
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per school: (E[f], SD[f]) of one student of ability latent mean + N(0, 1), under no manipulation."""
    weights = np.exp(-0.5 * (GRID[None, :] - latent_mean[:, None]) ** 2)
    weights /= weights.sum(axis=1, keepdims=True)
    moments = _moments_on_grid(code, year)
    result = {}
    for name, (first, second) in moments.items():
        mean = weights @ first
        result[name] = (mean, np.sqrt(np.maximum(weights @ second - mean**2, 1e-9)))
    # ВПР and journal marks are independent given ability: E[(M − J)²|a] = E[M²|a] − 2E[M|a]E[J|a] + E[J²|a].
    mark, mark_squared = moments["mark"]
    journal, journal_squared = _journal_moments(code, year, leniency)
    gap_mean = (weights * (mark[None, :] - journal)).sum(axis=1)
    gap_second = (weights * (mark_squared[None, :] - 2 * mark[None, :] * journal + journal_squared)).sum(axis=1)
    result["gap"] = (gap_mean, np.sqrt(np.maximum(gap_second - gap_mean**2, 1e-9)))
    return result


def work_frame(
    code: str,
    year: int,
    school: np.ndarray,
    offsets: np.ndarray,
    scores: np.ndarray,
    primary: np.ndarray,
    journal: np.ndarray,
    latent_mean: np.ndarray,
    leniency: np.ndarray,
    logins: np.ndarray,
) -> pd.DataFrame:
    """One row per school writing the work: participants, and per statistic expected, sd and observed
    (gap: over the participants with a journal mark, 0 when the journal is missing)."""
    participants = np.diff(offsets)
    present = np.flatnonzero(participants > 0)
    frame = pd.DataFrame(
        {"login": logins[present], "year": year, "work_code": code, "participants": participants[present]}
    )
    observed = per_student(code, year, scores, primary)
    with_journal = journal > 0
    observed["gap"] = np.where(with_journal, observed["mark"] - journal, 0.0)
    counts = dict.fromkeys(STATISTICS, participants)
    counts["gap"] = np.bincount(school, weights=with_journal, minlength=len(participants))
    expectation = expected(code, year, latent_mean[present], leniency[present])
    for name in STATISTICS:
        sums = np.bincount(school, weights=observed[name], minlength=len(participants))
        frame[f"{name}_expected"] = np.round(expectation[name][0], 5)
        frame[f"{name}_sd"] = np.round(expectation[name][1], 5)
        frame[f"{name}_observed"] = np.round(sums[present] / np.maximum(counts[name][present], 1), 5)
    return frame
