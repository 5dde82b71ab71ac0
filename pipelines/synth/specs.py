"""Assessment specifications the generator works from.

ВПР works, their tasks and cut scores and the ГИА minimum scores are configuration shared with dbt: they
are read from the dbt seeds (`dbt_project/seeds/vpr_works.csv`, `vpr_tasks.csv`, `gia_min_scores.csv`)
so the generated marks follow exactly the scales the pipeline checks them against. The ОГЭ/ЕГЭ primary
score scales below are internal to the generator: the РЦОИ export carries marks and test scores, so the
pipeline never needs them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from pipelines.ingest.works import read_seed

DEFAULT_WORKS = ("RU4", "MA4", "RU5", "MA5", "RU6", "MA6")


@dataclass(frozen=True)
class VprWork:
    """One ВПР work as specified for one year."""

    code: str
    subject_code: str
    subject_name: str
    grade: int
    max_primary_score: int
    cuts: tuple[int, int, int]  # lowest primary scores for marks 3, 4 and 5
    task_numbers: tuple[str, ...]
    task_max: np.ndarray  # int16, one per task in form order
    task_difficulty: tuple[str, ...]

    def marks_for(self, primary: np.ndarray) -> np.ndarray:
        """ВПР mark 2–5 from primary scores by the year's cut scores."""
        return (2 + np.searchsorted(np.asarray(self.cuts), primary, side="right")).astype(np.int8)


@cache
def _vpr_rows() -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    return read_seed("vpr_works.csv"), read_seed("vpr_tasks.csv")


def default_works(every_work: bool) -> tuple[str, ...]:
    """Every work of the seed, or the grade 4–6 works the municipality and region samples use."""
    return all_vpr_work_codes() if every_work else DEFAULT_WORKS


def all_vpr_work_codes() -> tuple[str, ...]:
    """Every work code the seed specifies, in seed order."""
    works, _ = _vpr_rows()
    return tuple(dict.fromkeys(row["work_code"] for row in works))


@cache
def vpr_work(code: str, year: int) -> VprWork:
    """The specification of a work valid in a year (the seed versions them by year_from/year_to)."""
    works, tasks = _vpr_rows()
    spec = [r for r in works if r["work_code"] == code and int(r["year_from"]) <= year <= int(r["year_to"])]
    if len(spec) != 1:
        raise ValueError(f"vpr_works.csv has {len(spec)} rows for {code} in {year}")
    row = spec[0]
    task_rows = sorted(
        (r for r in tasks if r["work_code"] == code and r["year_from"] == row["year_from"]),
        key=lambda r: int(r["task_order"]),
    )
    task_max = np.array([int(r["max_score"]) for r in task_rows], dtype=np.int16)
    if int(task_max.sum()) != int(row["max_primary_score"]):
        raise ValueError(f"vpr_tasks.csv maxima of {code} ({row['year_from']}) do not sum to the work maximum")
    return VprWork(
        code=code,
        subject_code=row["subject_code"],
        subject_name=row["subject_name"],
        grade=int(row["grade"]),
        max_primary_score=int(row["max_primary_score"]),
        cuts=(int(row["cut_3"]), int(row["cut_4"]), int(row["cut_5"])),
        task_numbers=tuple(r["task_number"] for r in task_rows),
        task_max=task_max,
        task_difficulty=tuple(r["difficulty"] for r in task_rows),
    )


@cache
def gia_minimums() -> dict[tuple[int, str, int], tuple[int | None, int | None]]:
    """(year, exam type, subject code) → (minimum test score, minimum mark) from the seed."""
    result = {}
    for row in read_seed("gia_min_scores.csv"):
        key = (int(row["year"]), row["exam_type"], int(row["subject_code"]))
        result[key] = (
            int(row["min_test_score"]) if row["min_test_score"] else None,
            int(row["min_mark"]) if row["min_mark"] else None,
        )
    return result


@dataclass(frozen=True)
class GiaExam:
    """An ОГЭ/ЕГЭ/ГВЭ exam as the generator scores it."""

    label: str  # the FIOKO work label used in the ground truth, e.g. 'ОГЭ MA'
    exam_type: str
    subject_code: int
    subject_name: str
    grade: int
    max_primary_score: int
    mark_cuts: tuple[int, int, int] | None  # primary scores for marks 3/4/5 (ОГЭ, ГВЭ, ЕГЭ base)
    test_scale: tuple[tuple[int, ...], tuple[int, ...]] | None  # primary → test score anchors (ЕГЭ)
    target_fail_share: float  # in the reference population (ГВЭ is sat by far weaker students)
    target_top_share: float | None = None  # share of mark 5 (mark-based exams)

    def test_scores_for(self, primary: np.ndarray) -> np.ndarray:
        xs, ys = self.test_scale
        return np.rint(np.interp(primary, xs, ys)).astype(np.int16)

    def marks_for(self, primary: np.ndarray) -> np.ndarray:
        return (2 + np.searchsorted(np.asarray(self.mark_cuts), primary, side="right")).astype(np.int8)

    def lowest_passing_primary(self, year: int) -> int:
        """The smallest primary score that is not «неудовлетворительно» in the year."""
        if self.mark_cuts is not None:
            return self.mark_cuts[0]
        min_test, _ = gia_minimums()[(year, self.exam_type, self.subject_code)]
        scores = self.test_scores_for(np.arange(self.max_primary_score + 1))
        return int(np.argmax(scores >= min_test))


GIA_EXAMS = {
    exam.label: exam
    for exam in (
        GiaExam("ОГЭ RU", "ОГЭ", 1, "Русский язык", 9, 33, (15, 23, 29), None, 0.04, 0.22),
        GiaExam("ОГЭ MA", "ОГЭ", 2, "Математика", 9, 31, (8, 15, 22), None, 0.06, 0.10),
        GiaExam("ГВЭ RU", "ГВЭ", 1, "Русский язык", 9, 20, (6, 11, 16), None, 0.003),
        GiaExam("ГВЭ MA", "ГВЭ", 2, "Математика", 9, 14, (4, 8, 11), None, 0.004),
        GiaExam(
            "ЕГЭ RU",
            "ЕГЭ",
            1,
            "Русский язык",
            11,
            50,
            None,
            ((0, 1, 10, 16, 25, 35, 43, 50), (0, 3, 24, 40, 56, 73, 88, 100)),
            0.015,
        ),
        GiaExam(
            "ЕГЭ MA_PROF",
            "ЕГЭ",
            2,
            "Математика (профильная)",
            11,
            32,
            None,
            ((0, 1, 5, 6, 8, 12, 18, 24, 32), (0, 6, 27, 34, 46, 70, 80, 90, 100)),
            0.08,
        ),
        GiaExam("ЕГЭ MA_BASE", "ЕГЭ", 22, "Математика (базовая)", 11, 21, (7, 12, 17), None, 0.03, 0.30),
    )
}

# The works FIOKO counts for ШНОР (seed 004): ОГЭ RU/MA, ЕГЭ base and profile MA and RU, ВПР 5–6 RU/MA.
FIOKO_GIA_LABELS = ("ОГЭ RU", "ОГЭ MA", "ЕГЭ RU", "ЕГЭ MA_PROF", "ЕГЭ MA_BASE")
FIOKO_VPR_WORKS = ("RU5", "MA5", "RU6", "MA6")


def fioko_vpr_label(work_code: str) -> str:
    return f"ВПР {work_code}"


def gia_exam_held(label: str, year: int) -> bool:
    """ЕГЭ base maths was not held in 2020; everything else runs every year (ОГЭ 2020 as school marks)."""
    exam = GIA_EXAMS[label]
    return (year, exam.exam_type, exam.subject_code) in gia_minimums()


# Marker columns of the FIOKO list of schools with signs of non-objective results and their works.
MARKER_COLUMNS = {"4 РУ": "RU4", "4 МА": "MA4", "5 РУ": "RU5", "5 МА": "MA5"}

# FIOKO «500+» risk factors; from 2023 one factor was renamed and one added.
RISK_FACTORS_2021 = (
    "Низкий уровень оснащения школы",
    "Дефицит педагогических кадров",
    "Недостаточная предметная и методическая компетентность педагогических работников",
    "Риски низкой адаптивности учебного процесса",
    "Несформированность внутришкольной системы повышения квалификации",
    "Высокая доля обучающихся с рисками учебной неуспешности",
    "Низкое качество преодоления языковых и культурных барьеров",
    "Пониженный уровень качества школьной образовательной и воспитательной среды",
    "Низкий уровень вовлечённости родителей",
    "Низкая учебная мотивация обучающихся",
)
RISK_FACTOR_RENAMED_2023 = {
    "Несформированность внутришкольной системы повышения квалификации": (
        "Несформированность внутришкольной системы профессионального развития педагогов"
    ),
}
RISK_FACTOR_ADDED_2023 = "Высокая доля обучающихся с ОВЗ"


def risk_factors(year: int) -> tuple[str, ...]:
    if year < 2023:
        return RISK_FACTORS_2021
    return tuple(RISK_FACTOR_RENAMED_2023.get(f, f) for f in RISK_FACTORS_2021) + (RISK_FACTOR_ADDED_2023,)
