"""Social passports: counts of students by social category, with their denominator, per school and year.

Each share follows the school's latent context (both parents with higher education rise with it; low
income, single parents, registers, non-native Russian, ОВЗ and school bus fall with it), and counts are
binomial draws from the year's number of students. The two `%` columns are count / total; one planted
school-year writes a share computed from another denominator, like seed 001's 42 / 21 % ⇒ 200 ≠ 259.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.synth.randomness import stream
from pipelines.synth.schools import Schools
from pipelines.synth.scoring import sigmoid

# raw column → (intercept, slope on context) of the share's logit
SHARE_MODELS = {
    "students_disabled_health": (-2.9, -0.35),
    "children_with_disability": (-3.9, -0.2),
    "on_school_register": (-3.4, -0.55),
    "on_police_register": (-4.5, -0.6),
    "large_families": (-1.6, -0.3),
    "single_parent_families": (-1.2, -0.45),
    "both_parents_higher_ed": (-1.6, 0.9),
    "one_parent_higher_ed": (-0.9, 0.35),
    "both_parents_unemployed": (-3.6, -0.65),
    "non_native_russian": (-3.2, -0.5),
    "school_bus": (-1.4, -0.3),
    "low_income_families": (-1.5, -0.75),
}
HEADERS = {
    "login": "Логин",
    "school_name": "Наименование ОО",
    "students_total": "Всего обучающихся",
    "students_disabled_health": "ОВЗ",
    "children_with_disability": "Дети-инвалиды",
    "on_school_register": "На внутришкольном учёте",
    "on_police_register": "На учёте в ПДН, КДН и ЗП",
    "large_families": "Из многодетных семей",
    "single_parent_families": "Из неполных семей",
    "single_parent_families_pct": "Из неполных семей, %",
    "both_parents_higher_ed": "Оба родителя с высшим образованием",
    "one_parent_higher_ed": "Один родитель с высшим образованием",
    "both_parents_unemployed": "Оба родителя безработные",
    "non_native_russian": "Русский язык не родной",
    "school_bus": "Подвоз",
    "low_income_families": "Малоимущие семьи",
    "low_income_families_pct": "Малоимущие семьи, %",
    "teachers_total": "Педагогов всего",
    "vacancies": "Вакансии",
    "teachers_higher_ped_ed": "С высшим педагогическим образованием",
    "teachers_category": "С первой и высшей категорией",
    "teachers_pension_age": "Пенсионного возраста",
    "teachers_upskilled_3y": "Прошли КПК за 3 года",
    "weekly_load_hours": "Средняя недельная нагрузка",
}
INCONSISTENT_DENOMINATOR_FACTOR = 0.77  # 200 / 259 in seed 001


def _share(column: str, context: np.ndarray, settlement: pd.Series, school_type: pd.Series) -> np.ndarray:
    intercept, slope = SHARE_MODELS[column]
    share = sigmoid(intercept + slope * context)
    if column == "school_bus":
        share = np.where(settlement.to_numpy() == "город", 0.0, share)
    if column == "students_disabled_health":
        share = np.where(school_type.to_numpy() == "коррекционная", 0.95, share)
    return share


def passport(schools: Schools, year: int, seed: int) -> pd.DataFrame:
    """One row per school open in the year, raw column names, shares rounded to 0.1."""
    rng = stream(seed, "passport", year)
    registry = schools.registry
    exists = schools.exists_in(year)
    growth = np.clip(1 + schools.trend * (year - 2021), 0.6, 1.4)
    total = np.maximum(5, rng.poisson(registry["enrolment"].to_numpy() * growth))
    frame = pd.DataFrame({"login": registry["login"], "school_name": registry["short_name"], "students_total": total})
    for column in SHARE_MODELS:
        share = _share(column, schools.context, registry["settlement_type"], registry["school_type"])
        frame[column] = rng.binomial(total, share)
    frame["single_parent_families_pct"] = np.round(100 * frame["single_parent_families"] / total, 1)
    frame["low_income_families_pct"] = np.round(100 * frame["low_income_families"] / total, 1)
    _add_staffing(frame, rng, schools.context, registry["settlement_type"])
    return frame[exists].reset_index(drop=True)[list(HEADERS)]


def _add_staffing(frame: pd.DataFrame, rng: np.random.Generator, context: np.ndarray, settlement: pd.Series) -> None:
    rural = (settlement == "село").to_numpy()
    teachers = np.maximum(4, np.rint(frame["students_total"] / 12 + 3 + rng.normal(0, 1.5, len(frame)))).astype(int)
    frame["teachers_total"] = teachers
    frame["vacancies"] = rng.poisson(0.4 + 0.6 * rural + 0.3 * (context < -1))
    frame["teachers_higher_ped_ed"] = rng.binomial(teachers, np.clip(0.82 + 0.04 * context - 0.08 * rural, 0.4, 0.98))
    frame["teachers_category"] = rng.binomial(teachers, np.clip(0.55 + 0.06 * context, 0.2, 0.9))
    frame["teachers_pension_age"] = rng.binomial(teachers, 0.22 + 0.1 * rural)
    frame["teachers_upskilled_3y"] = rng.binomial(teachers, 0.88)
    load = 19 + 3 * frame["vacancies"] / teachers + 2 * rural + rng.normal(0, 1.3, len(frame))
    frame["weekly_load_hours"] = np.round(np.clip(load, 14, 32), 1)


def make_share_inconsistent(frame: pd.DataFrame, login: str) -> str:
    """Rewrites one school's share column from a wrong denominator; returns the ground-truth detail."""
    row = frame.index[frame["login"] == login][0]
    total = int(frame.at[row, "students_total"])
    count_column = "low_income_families" if frame.at[row, "low_income_families"] else "single_parent_families"
    count = int(frame.at[row, count_column])
    share = round(100 * count / round(total * INCONSISTENT_DENOMINATOR_FACTOR), 1)
    frame.at[row, f"{count_column}_pct"] = share
    implied = round(100 * count / share)
    return f"{HEADERS[count_column]}: {count} / {share:.1f} % ⇒ {implied} ≠ {total}".replace(".", ",")
