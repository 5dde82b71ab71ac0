"""What FIOKO would publish about the generated schools: the ШНОР list, objectivity markers, risk profiles.

ШНОР (FIOKO rule as applied in seed 004). A work has low results in a school when at least 30 % of its
first-attempt participants got «неудовлетворительно» (10·fails ≥ 3·participants): ВПР mark 2; ОГЭ and
ЕГЭ base maths mark 2; ЕГЭ Russian and profile maths a test score below the year's minimum. Works
counted: ОГЭ RU/MA, ЕГЭ RU, profile and base MA, ВПР RU5/MA5/RU6/MA6. The 2020 ОГЭ school marks and
works with no participants never count. A school is on the list for year Y if it had
(1) at least two low works in Y−1 (`two_works_prev_year`), or
(2) at least one low work in each of Y−1 and Y−2 (`works_in_two_years`); `both` when both hold.

Level of results (FIOKO does not publish its rule; this local rule is documented here and in the README):
- «Сильно неуспевающие»: both criteria hold, or three or more low works in Y−1;
- «Умеренно неуспевающие»: criterion 1 only;
- «Базово неуспевающие»: criterion 2 only.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.synth.gia import GiaRows
from pipelines.synth.plan import Plan
from pipelines.synth.randomness import stream
from pipelines.synth.schools import Schools
from pipelines.synth.specs import FIOKO_GIA_LABELS, FIOKO_VPR_WORKS, MARKER_COLUMNS, fioko_vpr_label, risk_factors
from pipelines.synth.vpr import VprBatch

FIOKO_LABELS = tuple(fioko_vpr_label(w) for w in FIOKO_VPR_WORKS) + FIOKO_GIA_LABELS
LEVEL_STRONG, LEVEL_MODERATE, LEVEL_BASIC = "Сильно неуспевающие", "Умеренно неуспевающие", "Базово неуспевающие"
MARKER_NOT_ASSESSED_SHARE = 0.17  # the real Dagestan list leaves about one marker cell in six empty
RISK_LEVELS = ("отсутствует", "низкий", "средний", "высокий")


def vpr_counts(batch: VprBatch) -> tuple[str, np.ndarray, np.ndarray]:
    """(work label, participants, «2») per school of one ВПР work."""
    return fioko_vpr_label(batch.work.code), batch.participants(), batch.fails()


def gia_counts(rows: GiaRows, n_schools: int) -> tuple[str, np.ndarray, np.ndarray]:
    """(exam label, participants, failures) per school, first attempts of real exams only."""
    counted = rows.counted()
    participants = np.bincount(rows.school[counted], minlength=n_schools)
    fails = np.bincount(rows.school[counted], weights=rows.fails()[counted], minlength=n_schools).astype(int)
    return rows.exam.label, participants, fails


def work_stats(year: int, counts: list[tuple[str, np.ndarray, np.ndarray]]) -> pd.DataFrame:
    """One row per school and work with participants: year, school, label, participants, fails."""
    stats = pd.concat(
        [
            pd.DataFrame(
                {
                    "year": year,
                    "school": np.arange(len(participants)),
                    "label": label,
                    "participants": participants,
                    "fails": fails,
                }
            )
            for label, participants, fails in counts
        ],
        ignore_index=True,
    )
    return stats[stats["participants"] > 0].reset_index(drop=True)


def low_works(stats: pd.DataFrame) -> pd.DataFrame:
    """The (year, school, label) of every low FIOKO work."""
    low = stats[stats["label"].isin(FIOKO_LABELS) & (10 * stats["fails"] >= 3 * stats["participants"])]
    return low[["year", "school", "label"]].sort_values(["school", "year", "label"]).reset_index(drop=True)


def shnor_list(stats: pd.DataFrame, list_years: list[int]) -> pd.DataFrame:
    """The list the FIOKO rule gives: list_year, school, criterion, level, low_works ('2023:ОГЭ MA|…')."""
    low = low_works(stats)
    rows = []
    for list_year in list_years:
        previous = low[low["year"] == list_year - 1].groupby("school")["label"].apply(list)
        earlier = low[low["year"] == list_year - 2].groupby("school")["label"].apply(list)
        for school, labels in previous.items():
            earlier_labels = earlier.get(school, [])
            two_works, two_years = len(labels) >= 2, bool(earlier_labels)
            if not (two_works or two_years):
                continue
            criterion = (
                "both" if two_works and two_years else "two_works_prev_year" if two_works else "works_in_two_years"
            )
            works = [f"{list_year - 2}:{label}" for label in earlier_labels] + [
                f"{list_year - 1}:{label}" for label in labels
            ]
            rows.append(
                {
                    "list_year": list_year,
                    "school": int(school),
                    "criterion": criterion,
                    "level": shnor_level(len(labels), len(earlier_labels)),
                    "low_works": "|".join(works),
                }
            )
    return pd.DataFrame(rows, columns=["list_year", "school", "criterion", "level", "low_works"]).astype(
        {"list_year": int, "school": int}
    )


def shnor_level(low_previous: int, low_earlier: int) -> str:
    if (low_previous >= 2 and low_earlier >= 1) or low_previous >= 3:
        return LEVEL_STRONG
    return LEVEL_MODERATE if low_previous >= 2 else LEVEL_BASIC


def objectivity_markers(plan: Plan, stats: pd.DataFrame, year: int, seed: int) -> pd.DataFrame:
    """One row per school FIOKO marks for the year: 1 on planted works, else 0 or empty (not assessed).

    Like the published list, only schools with at least one marker appear; a work the school did not
    write is always empty.
    """
    rng = stream(seed, "objectivity-markers", year)
    written = stats[stats["year"] == year].groupby("school")["label"].apply(set)
    rows = []
    for school, works in sorted(plan.marker_works(year).items()):
        row = {"school": school}
        for column, work in MARKER_COLUMNS.items():
            not_assessed = rng.random() < MARKER_NOT_ASSESSED_SHARE
            if work in works:
                row[column] = 1
            elif fioko_vpr_label(work) in written.get(school, set()) and not not_assessed:
                row[column] = 0
            else:
                row[column] = None
        rows.append(row)
    return pd.DataFrame(rows, columns=["school", *MARKER_COLUMNS]).astype({"school": int})


def risk_profiles(schools: Schools, stats: pd.DataFrame, profiled: list[int], year: int, seed: int) -> pd.DataFrame:
    """Risk levels of the year's factors for the profiled schools, driven by context and low results."""
    rng = stream(seed, "risk-profiles", year)
    low_count = low_works(stats[stats["year"].isin([year - 1, year - 2])]).groupby("school").size()
    factors = risk_factors(year)
    rows = []
    for school in profiled:
        pressure = -schools.context[school] + 0.4 * low_count.get(school, 0)
        for factor in factors:
            score = pressure + rng.normal(0, 0.8)
            level = RISK_LEVELS[int(np.searchsorted([-0.5, 0.3, 1.1], score))]
            rows.append({"school": school, "factor": factor, "level": level})
    return pd.DataFrame(rows, columns=["school", "factor", "level"]).astype({"school": int})


def shnsu_flags(schools: Schools, share: float = 0.15) -> np.ndarray:
    """Schools in unfavourable social conditions: the bottom `share` of latent context in their region."""
    context = pd.Series(schools.context)
    region = schools.registry["region_code"]
    return (context.groupby(region.to_numpy()).rank(pct=True, method="first") <= share).to_numpy()
