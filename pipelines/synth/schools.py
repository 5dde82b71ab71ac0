"""The synthetic school population: registry attributes and the latent traits that drive every result.

Each school has a latent social context (standardised, higher is better-off) that drives its social
passport and, together with a school effect and its type, the mean ability of its students. Sizes are
heavy-tailed: many rural schools with a handful of students per grade, a few large urban lyceums and
gymnasiums. School types fix which assessments a school takes (a НОШ only grade 4 ВПР, an ООШ no ЕГЭ,
evening schools no ВПР, special (correctional) schools ГВЭ instead of ОГЭ).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipelines.synth import names
from pipelines.synth.randomness import stream


@dataclass(frozen=True)
class Scale:
    regions: int
    schools: int
    municipalities_per_region: int | None  # None: about one per 22 schools
    every_vpr_work: bool = False  # by default every work of vpr_works.csv, not only grades 4–6
    cohort_factor: float = 1.0  # students per grade relative to COHORT_SIZE


SCALES = {
    "municipality": Scale(regions=1, schools=30, municipalities_per_region=1),
    "region": Scale(regions=1, schools=1000, municipalities_per_region=20),
    # The validation profile's region (anomalies.yml): about half its schools under 15 participants per work.
    "validation": Scale(regions=1, schools=500, municipalities_per_region=12, cohort_factor=0.8),
    # A real federal year has about 20 million ВПР and 7 million ГИА participant rows, over more subjects
    # than the Russian and maths works specified here; larger cohorts give the same volume with these works.
    "federal": Scale(
        regions=80, schools=40000, municipalities_per_region=None, every_vpr_work=True, cohort_factor=1.85
    ),
}

SETTLEMENTS = ("город", "посёлок городского типа", "село")
SETTLEMENT_MIX = {
    "capital": (0.88, 0.04, 0.08),
    "town": (0.80, 0.10, 0.10),
    "district": (0.12, 0.18, 0.70),
}
TYPE_MIX = {
    "город": {
        "СОШ": 0.56,
        "гимназия": 0.10,
        "лицей": 0.08,
        "СОШ с УИОП": 0.09,
        "ООШ": 0.04,
        "вечерняя (сменная)": 0.05,
        "коррекционная": 0.08,
    },
    "посёлок городского типа": {
        "СОШ": 0.72,
        "ООШ": 0.16,
        "гимназия": 0.05,
        "вечерняя (сменная)": 0.03,
        "коррекционная": 0.04,
    },
    "село": {"СОШ": 0.48, "ООШ": 0.32, "НОШ": 0.13, "интернат": 0.07},
}
# Median students per grade and the spread of its logarithm, by settlement and type.
COHORT_SIZE = {
    ("город", "СОШ"): (55, 0.45),
    ("город", "гимназия"): (85, 0.30),
    ("город", "лицей"): (80, 0.30),
    ("город", "СОШ с УИОП"): (75, 0.35),
    ("город", "ООШ"): (25, 0.40),
    ("город", "вечерняя (сменная)"): (12, 0.40),
    ("город", "коррекционная"): (9, 0.35),
    ("посёлок городского типа", "СОШ"): (28, 0.45),
    ("посёлок городского типа", "ООШ"): (10, 0.40),
    ("посёлок городского типа", "гимназия"): (45, 0.30),
    ("посёлок городского типа", "вечерняя (сменная)"): (8, 0.40),
    ("посёлок городского типа", "коррекционная"): (7, 0.35),
    ("село", "СОШ"): (10, 0.55),
    ("село", "ООШ"): (5.5, 0.50),
    ("село", "НОШ"): (4, 0.40),
    ("село", "интернат"): (12, 0.40),
}
CONTEXT_SHIFT_BY_SETTLEMENT = {"город": 0.45, "посёлок городского типа": 0.0, "село": -0.45}
CONTEXT_SHIFT_BY_TYPE = {
    "гимназия": 0.55,
    "лицей": 0.55,
    "СОШ с УИОП": 0.35,
    "ООШ": -0.15,
    "НОШ": -0.1,
    "вечерняя (сменная)": -0.6,
    "коррекционная": -0.7,
    "интернат": -0.5,
}
ABILITY_SHIFT_BY_TYPE = {
    "гимназия": 0.45,
    "лицей": 0.50,
    "СОШ с УИОП": 0.30,
    "интернат": -0.20,
    "вечерняя (сменная)": -0.70,
    "коррекционная": -0.90,
}
CONTEXT_WEIGHT_IN_ABILITY = 0.45

VPR_GRADES = {"НОШ": (4,), "вечерняя (сменная)": (), "коррекционная": ()}
DEFAULT_VPR_GRADES = (4, 5, 6, 7, 8)
TAKES_OGE = {"ООШ", "СОШ", "СОШ с УИОП", "гимназия", "лицей", "интернат", "вечерняя (сменная)"}
TAKES_EGE = {"СОШ", "СОШ с УИОП", "гимназия", "лицей", "интернат", "вечерняя (сменная)"}
TAKES_GVE = {"коррекционная"}
GRADES_IN_SCHOOL = {"НОШ": 4, "ООШ": 9, "вечерняя (сменная)": 3, "коррекционная": 9}
EDU_LOGIN_REGIONS = {5, 7, 9, 20, 26, 15}  # regions whose ФИС ОКО logins read 'edu…'


@dataclass
class Schools:
    """Registry attributes (as a DataFrame, one row per school) and latent traits (arrays by position)."""

    registry: pd.DataFrame  # login, full_name, short_name, municipality, settlement_type, school_type,
    #                         enrolment, opened_year, region_code
    context: np.ndarray  # latent social context, standardised
    ability: np.ndarray  # mean student ability (participant-weighted mean 0)
    journal_leniency: np.ndarray  # how generously the school's journal marks its students
    cohort_size: np.ndarray  # expected students per grade
    participation: np.ndarray  # share of a grade that writes a ВПР work
    trend: np.ndarray  # yearly relative change of cohorts

    def __len__(self) -> int:
        return len(self.registry)

    @property
    def login(self) -> np.ndarray:
        return self.registry["login"].to_numpy()

    def vpr_grades(self, position: int) -> tuple[int, ...]:
        return VPR_GRADES.get(self.registry["school_type"].iat[position], DEFAULT_VPR_GRADES)

    def exists_in(self, year: int) -> np.ndarray:
        return self.registry["opened_year"].to_numpy() <= year


def _stochastic_round(rng: np.random.Generator, total: int, shares: dict[str, float]) -> list[str]:
    """`total` labels in the given shares: floors exact, remainders drawn without replacement (unbiased)."""
    labels = list(shares)
    expected = np.array([shares[label] for label in labels]) * total
    counts = np.floor(expected).astype(int)
    rest = total - counts.sum()
    if rest:
        remainders = expected - counts
        extra = rng.choice(len(labels), size=rest, replace=False, p=remainders / remainders.sum())
        counts[extra] += 1
    out = [label for label, count in zip(labels, counts) for _ in range(count)]
    return [out[i] for i in rng.permutation(len(out))]


def _region_layout(scale: Scale, rng: np.random.Generator) -> list[tuple[int, str, int, int]]:
    """(region code, login prefix, schools, municipalities) per region."""
    if scale.regions == 1:
        return [(86, "sch", scale.schools, scale.municipalities_per_region)]
    codes = np.sort(rng.choice(np.arange(1, 90), size=scale.regions, replace=False))
    weights = rng.lognormal(0.0, 0.6, size=scale.regions)
    sizes = np.maximum(80, np.floor(weights / weights.sum() * scale.schools)).astype(int)
    sizes[np.argmax(sizes)] += scale.schools - sizes.sum()
    return [
        (int(code), "edu" if code in EDU_LOGIN_REGIONS else "sch", int(size), int(np.clip(round(size / 22), 4, 60)))
        for code, size in zip(codes, sizes)
    ]


def _municipalities(rng: np.random.Generator, n_schools: int, n_munis: int) -> list[tuple[str, str, int]]:
    """(name, kind, schools) per municipality: a capital city, a couple of towns and rural districts."""
    if n_munis == 1:
        return [(f"{rng.choice(names.DISTRICT_ROOTS)} муниципальный округ", "district", n_schools)]
    kinds = ["capital"] + ["town"] * (2 if n_munis >= 6 else 0)
    kinds += ["district"] * (n_munis - len(kinds))
    shares = rng.dirichlet(np.full(n_munis, 4.0))
    shares[0] = 0.30
    shares[1:] *= 0.70 / shares[1:].sum()
    counts = np.maximum(3, np.floor(shares * n_schools)).astype(int)
    counts[0] += n_schools - counts.sum()
    cities = rng.choice(names.CITY_NAMES, size=1 + kinds.count("town"), replace=False)
    roots = rng.choice(names.DISTRICT_ROOTS, size=kinds.count("district"), replace=False)
    muni_names = [f"городской округ город {cities[0]}"] + [f"городской округ {c}" for c in cities[1:]]
    muni_names += [f"{root} муниципальный {'район' if rng.random() < 0.6 else 'округ'}" for root in roots]
    return list(zip(muni_names, kinds, counts.tolist()))


def _schools_of_municipality(rng: np.random.Generator, muni: str, kind: str, n: int) -> list[dict]:
    settlements = _stochastic_round(rng, n, dict(zip(SETTLEMENTS, SETTLEMENT_MIX[kind])))
    villages = iter(rng.permutation(names.VILLAGE_NAMES))
    urban_centre = str(rng.choice(names.VILLAGE_NAMES))
    rows, number = [], 0
    by_settlement = {s: settlements.count(s) for s in SETTLEMENTS}
    for settlement in SETTLEMENTS:
        for school_type in _stochastic_round(rng, by_settlement[settlement], TYPE_MIX[settlement]):
            if settlement == "село":
                place = f"с. {next(villages, None) or f'{urban_centre}-{len(rows)}'}"
            else:
                number += 1
                place = f"№ {number}" + (f" пгт {urban_centre}" if settlement != "город" else "")
            rows.append(
                {"municipality": muni, "settlement_type": settlement, "school_type": school_type, "place": place}
            )
    return rows


def _ensure_a_selective_school(rows: list[dict]) -> None:
    """Every region has at least one gymnasium or lyceum: promote its first urban СОШ if needed."""
    if not any(r["school_type"] in ("гимназия", "лицей") for r in rows):
        urban = [r for r in rows if r["settlement_type"] != "село" and r["school_type"] == "СОШ"]
        (urban or rows)[0]["school_type"] = "гимназия"


def _ownership(rng: np.random.Generator, school_type: str, settlement: str) -> str:
    if school_type in ("коррекционная", "интернат"):
        return "ГКОУ"
    if settlement == "село":
        return str(rng.choice(["МБОУ", "МКОУ"], p=[0.55, 0.45]))
    return str(rng.choice(["МБОУ", "МКОУ", "МАОУ"], p=[0.7, 0.1, 0.2]))


def build_schools(scale_name: str, seed: int, last_year: int) -> Schools:
    """The school population of a scale; one school per 500 (at least one) opened the year before last."""
    scale = SCALES[scale_name]
    rng = stream(seed, "schools")
    rows: list[dict] = []
    for code, prefix, n_schools, n_munis in _region_layout(scale, rng):
        region_rows = []
        for muni, kind, n in _municipalities(rng, n_schools, n_munis):
            region_rows += _schools_of_municipality(rng, muni, kind, n)
        _ensure_a_selective_school(region_rows)
        first_number = 3001 if prefix == "edu" else 1
        for i, row in enumerate(region_rows):
            row["region_code"] = code
            row["login"] = f"{prefix}{code:02d}{first_number + i:04d}"
        rows += region_rows
    registry = pd.DataFrame(rows)
    n = len(registry)
    settlement, school_type = registry["settlement_type"], registry["school_type"]

    region_shift = (
        registry["region_code"].map(dict(zip(sorted(set(registry["region_code"])), rng.normal(0, 0.3, 100)))).to_numpy()
        if scale.regions > 1
        else np.zeros(n)
    )
    context = (
        rng.normal(size=n)
        + settlement.map(CONTEXT_SHIFT_BY_SETTLEMENT).to_numpy()
        + school_type.map(CONTEXT_SHIFT_BY_TYPE).fillna(0).to_numpy()
        + region_shift
    )
    context = (context - context.mean()) / context.std()

    medians, sigmas = zip(*(COHORT_SIZE[(s, t)] for s, t in zip(settlement, school_type)))
    cohort = np.clip(np.array(medians) * np.exp(np.array(sigmas) * rng.normal(size=n)), 2, 210) * scale.cohort_factor

    ability = (
        CONTEXT_WEIGHT_IN_ABILITY * context
        + rng.normal(0, 0.25, n)
        + school_type.map(ABILITY_SHIFT_BY_TYPE).fillna(0).to_numpy()
    )
    ability -= np.average(ability, weights=cohort)

    ownership = [_ownership(rng, t, s) for t, s in zip(school_type, settlement)]
    full, short = zip(*(names.school_names(t, o, p) for t, o, p in zip(school_type, ownership, registry["place"])))
    registry["full_name"], registry["short_name"] = full, short

    rural = (settlement == "село").to_numpy()
    opened = np.where(rural, rng.integers(1900, 1996, n), rng.integers(1935, 2016, n))
    new_schools = _pick_new_schools(rng, registry, cohort)
    opened[new_schools] = last_year - 1
    registry["opened_year"] = opened

    grades = school_type.map(GRADES_IN_SCHOOL).fillna(9 + 2 * 0.45).to_numpy()
    registry["enrolment"] = np.maximum(5, np.rint(cohort * grades * rng.normal(1.0, 0.05, n))).astype(int)

    columns = [
        "login",
        "full_name",
        "short_name",
        "municipality",
        "settlement_type",
        "school_type",
        "enrolment",
        "opened_year",
        "region_code",
    ]
    return Schools(
        registry=registry[columns],
        context=context,
        ability=ability,
        journal_leniency=rng.normal(0, 0.25, n),
        cohort_size=cohort,
        participation=rng.uniform(0.86, 0.98, n),
        trend=rng.normal(0, 0.03, n),
    )


def _pick_new_schools(rng: np.random.Generator, registry: pd.DataFrame, cohort: np.ndarray) -> np.ndarray:
    """New schools are built in towns: urban СОШ, one per 500 schools."""
    urban_secondary = (registry["settlement_type"] != "село") & (registry["school_type"] == "СОШ")
    candidates = np.flatnonzero(urban_secondary.to_numpy())
    count = max(1, len(registry) // 500)
    return np.sort(rng.choice(candidates, size=min(count, len(candidates)), replace=False))


def cohort_counts(schools: Schools, seed: int, year: int) -> dict[int, np.ndarray]:
    """Students per grade (4–9, 11) in every school in a year; zero before a school opened."""
    rng = stream(seed, "cohorts", year)
    growth = np.clip(1 + schools.trend * (year - 2021), 0.6, 1.4)
    exists = schools.exists_in(year)
    counts = {}
    for grade in (4, 5, 6, 7, 8, 9, 11):
        share = 0.45 if grade == 11 else 1.0
        counts[grade] = np.where(exists, rng.poisson(schools.cohort_size * growth * share), 0)
    return counts
