"""ГИА rows of one year: ОГЭ (or ГВЭ in special schools) for grade 9, ЕГЭ for grade 11.

Scores come from the same school mean ability as the ВПР, so a school's honest ВПР level is confirmed by
its ОГЭ/ЕГЭ and an inflated one is not. Every grade-9 student takes Russian and maths; in grade 11 every
student takes Russian and chooses profile or base maths. In 2020 ОГЭ/ГВЭ were replaced by school marks
(Форма `промежуточная аттестация`, no scores) and ЕГЭ base maths was not held. About half of the
students who fail a first attempt retake it (`Пересдача` = 1); retakes never count for ШНОР.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipelines.synth.plan import Plan
from pipelines.synth.randomness import participant_codes, stream
from pipelines.synth.schools import TAKES_EGE, TAKES_GVE, TAKES_OGE, Schools
from pipelines.synth.scoring import chooses_profile_maths, draw_gia_primary, gia_parameters
from pipelines.synth.specs import GIA_EXAMS, GiaExam, gia_exam_held, gia_minimums
from pipelines.synth.vpr import YEAR_EFFECT, controlled_targets

SCHOOL_MARKS_YEAR = 2020
RETAKE_SHARE = 0.5
RETAKE_GAIN = 0.8
SUBJECT_NOISE = 0.45


@dataclass
class GiaRows:
    """The rows of one exam in one year: first attempts ordered by school, then retakes."""

    exam: GiaExam
    year: int
    school: np.ndarray  # int32
    codes: np.ndarray  # S10
    primary: np.ndarray  # int16, -1 when absent
    test: np.ndarray  # int16, -1 when absent
    mark: np.ndarray  # int8, 0 when absent
    min_score: int | None
    percent_tenths: np.ndarray  # int16, -1 when absent
    retake: np.ndarray  # bool
    school_marks: bool  # 2020 ОГЭ/ГВЭ: marks of the intermediate attestation instead of an exam

    def __len__(self) -> int:
        return len(self.school)

    def fails(self) -> np.ndarray:
        """Whether each row is «неудовлетворительно»: mark 2, or a test score below the year's minimum."""
        if self.exam.mark_cuts is not None:
            return self.mark == 2
        return self.test < self.min_score

    def counted(self) -> np.ndarray:
        """Rows that count for ШНОР: first attempts of real exams."""
        return ~self.retake & (not self.school_marks)


@dataclass
class _Students:
    school: np.ndarray
    ability: np.ndarray
    codes: np.ndarray
    offsets: np.ndarray


def _students(
    schools: Schools, plan: Plan, counts: np.ndarray, codes: np.ndarray, rng: np.random.Generator, year: int
) -> _Students:
    school = np.repeat(np.arange(len(schools), dtype=np.int32), counts)
    school_mean = (
        schools.ability
        + rng.normal(0, 0.15, len(schools))
        + YEAR_EFFECT.get(year, 0.0)
        + plan.level_shift(year, len(schools))
    )
    return _Students(
        school, school_mean[school] + rng.normal(0, 1.0, len(school)), codes, np.concatenate([[0], np.cumsum(counts)])
    )


def _grade_counts(
    schools: Schools, plan: Plan, cohorts: dict[int, np.ndarray], year: int, grade: int, school_types: set[str]
) -> np.ndarray:
    takes = schools.registry["school_type"].isin(school_types).to_numpy()
    counts = np.where(takes, cohorts[grade], 0)
    for school, size in plan.sizes.get((year, f"grade{grade}"), {}).items():
        counts[school] = size
    return counts


def _subset(students: _Students, keep: np.ndarray, n_schools: int) -> _Students:
    school = students.school[keep]
    counts = np.bincount(school, minlength=n_schools)
    return _Students(school, students.ability[keep], students.codes[keep], np.concatenate([[0], np.cumsum(counts)]))


def _scored_rows(
    rng: np.random.Generator, plan: Plan, exam: GiaExam, year: int, students: _Students, population: str
) -> GiaRows:
    ability = students.ability + rng.normal(0, SUBJECT_NOISE, len(students.ability))
    parameters = gia_parameters(exam, year, population)
    primary = draw_gia_primary(rng, exam, parameters, ability)
    passing = exam.lowest_passing_primary(year)
    rows, targets = controlled_targets(
        rng,
        plan.fail_controls.get((year, exam.label), {}),
        students.offsets,
        primary,
        ability + rng.normal(0, 0.01, len(ability)),
        passing,
        exam.max_primary_score,
    )
    primary[rows] = targets
    retaking = (primary < passing) & (rng.random(len(primary)) < RETAKE_SHARE)
    retake_primary = draw_gia_primary(rng, exam, parameters, ability[retaking] + RETAKE_GAIN)
    school = np.concatenate([students.school, students.school[retaking]])
    primary = np.concatenate([primary, retake_primary])
    return _rows_from_primary(
        exam,
        year,
        school,
        np.concatenate([students.codes, students.codes[retaking]]),
        primary,
        np.arange(len(primary)) >= len(students.school),
    )


def _rows_from_primary(
    exam: GiaExam, year: int, school: np.ndarray, codes: np.ndarray, primary: np.ndarray, retake: np.ndarray
) -> GiaRows:
    min_test, min_mark = gia_minimums()[(year, exam.exam_type, exam.subject_code)]
    absent = np.full(len(primary), -1, dtype=np.int16)
    has_test = exam.test_scale is not None
    return GiaRows(
        exam=exam,
        year=year,
        school=school,
        codes=codes,
        primary=primary.astype(np.int16),
        test=exam.test_scores_for(primary) if has_test else absent,
        mark=np.zeros(len(primary), dtype=np.int8) if has_test else exam.marks_for(primary),
        min_score=(min_test if has_test else min_mark) if exam.exam_type == "ЕГЭ" else None,
        percent_tenths=np.rint(primary.astype(np.int32) * 1000 / exam.max_primary_score).astype(np.int16),
        retake=retake,
        school_marks=False,
    )


def _school_mark_rows(
    rng: np.random.Generator, schools: Schools, exam: GiaExam, year: int, students: _Students
) -> GiaRows:
    """2020: the certificate mark of the intermediate attestation, never «2»."""
    latent = students.ability + schools.journal_leniency[students.school] + rng.normal(0, 0.55, len(students.school))
    mark = (3 + (latent > 0.0) + (latent > 1.1)).astype(np.int8)
    absent = np.full(len(mark), -1, dtype=np.int16)
    return GiaRows(
        exam,
        year,
        students.school,
        students.codes,
        absent,
        absent,
        mark,
        None,
        absent,
        np.zeros(len(mark), dtype=bool),
        school_marks=True,
    )


def _grade9_rows(rng, schools, plan, students: _Students, year: int) -> list[GiaRows]:
    gve_school = schools.registry["school_type"].isin(TAKES_GVE).to_numpy()
    result = []
    for kind, keep in (("ОГЭ", ~gve_school[students.school]), ("ГВЭ", gve_school[students.school])):
        group = _subset(students, keep, len(schools))
        for subject in ("RU", "MA"):
            exam = GIA_EXAMS[f"{kind} {subject}"]
            if year == SCHOOL_MARKS_YEAR:
                result.append(_school_mark_rows(rng, schools, exam, year, group))
            else:
                result.append(_scored_rows(rng, plan, exam, year, group, "all"))
    return result


def _grade11_rows(rng, schools, plan, students: _Students, year: int) -> list[GiaRows]:
    n_schools = len(schools)
    # In 2020 only students applying to university sat ЕГЭ; the others were certified by school marks.
    sitting = rng.random(len(students.school)) < (0.9 if year == SCHOOL_MARKS_YEAR else 1.0)
    result = [_scored_rows(rng, plan, GIA_EXAMS["ЕГЭ RU"], year, _subset(students, sitting, n_schools), "all")]
    profile = chooses_profile_maths(rng, students.ability)
    result.append(
        _scored_rows(
            rng, plan, GIA_EXAMS["ЕГЭ MA_PROF"], year, _subset(students, profile & sitting, n_schools), "profile"
        )
    )
    if gia_exam_held("ЕГЭ MA_BASE", year):
        result.append(
            _scored_rows(rng, plan, GIA_EXAMS["ЕГЭ MA_BASE"], year, _subset(students, ~profile, n_schools), "base")
        )
    return result


def generate_gia(schools: Schools, plan: Plan, cohorts: dict[int, np.ndarray], year: int, seed: int) -> list[GiaRows]:
    rng = stream(seed, "gia", year)
    n9 = _grade_counts(schools, plan, cohorts, year, 9, TAKES_OGE | TAKES_GVE)
    n11 = _grade_counts(schools, plan, cohorts, year, 11, TAKES_EGE)
    codes = participant_codes(seed, "gia", year, int(n9.sum() + n11.sum()))
    grade9 = _students(schools, plan, n9, codes[: n9.sum()], rng, year)
    grade11 = _students(schools, plan, n11, codes[n9.sum() :], rng, year)
    return _grade9_rows(rng, schools, plan, grade9, year) + _grade11_rows(rng, schools, plan, grade11, year)
