"""Generates a whole landing folder: schools, yearly results, FIOKO lists, passports and ground truth."""

from __future__ import annotations

import multiprocessing
from collections import Counter
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from pipelines.synth import fioko, names, oracle, passport, truth, vpr_reports
from pipelines.synth.anomalies import DEFAULT_PROFILE, Profile, profile
from pipelines.synth.gia import generate_gia
from pipelines.synth.plan import FIRST_MARKERS_YEAR, Plan, make_plan
from pipelines.synth.randomness import stream
from pipelines.synth.schools import SCALES, Schools, build_schools, cohort_counts
from pipelines.synth.specs import MARKER_COLUMNS, default_works
from pipelines.synth.vpr import VprBatch, generate_vpr
from pipelines.synth.vpr_files import (
    SUBJECT_DATIVE,
    a1_payloads,
    layout_for,
    region_payload,
    write_a1_forms,
    write_region_file,
)
from pipelines.synth.writers import (
    VprParquet,
    gia_school_codes,
    write_gia_csv,
    write_gia_lists,
    write_gia_school_codes,
    write_objectivity_markers,
    write_titled_table,
)

GENERATED_FILES = (
    "registry/schools.xlsx",
    "fioko/shnor_*.xlsx",
    "fioko/objectivity_markers_[0-9][0-9][0-9][0-9].xlsx",
    "fioko/risk_profiles_*.xlsx",
    "vpr/vpr_*.parquet",
    "gia/gia_*.csv",
    "social_passport/social_passport_*.xlsx",
    "gia/[0-9][0-9][0-9][0-9]/*.csv",
    "registry/gia_school_codes.xlsx",
    "ground_truth/*",
    # ВПР: A1 per-school forms, A2 and A3 region exports, and the earlier <login>_<WORK>.xlsx forms
    "vpr/[0-9][0-9][0-9][0-9]/[a-z]*[0-9]/* [0-9]* класс.xlsx",
    *(
        f"vpr/[0-9][0-9][0-9][0-9]/{grade}/{subject}.xlsx"
        for grade in ("[0-9]", "[0-9][0-9]")
        for subject in SUBJECT_DATIVE
    ),
    "vpr/[0-9][0-9][0-9][0-9]/Проведение работы по *, [0-9]* класс. ВПР [0-9][0-9][0-9][0-9].xlsx",
    "vpr/[0-9][0-9][0-9][0-9]/*_[A-Z][A-Z]*[0-9].xlsx",
    *vpr_reports.GENERATED_FILES,
)
VPR_LEVELS = ("participants", "reports", "both")  # participant rows, ФИС ОКО reports only, or both
FORMS_PER_TASK = 150
MESSY_LOGIN_SHARE = 0.005  # passport rows typed with an upper-case login and a trailing space (at least one)
QUIRKY_NAME_SHARE = 0.15  # FIOKO names with a doubled space, as in the published list


@dataclass
class _Totals:
    """Row and file counts for the manifest and the command line summary."""

    vpr_rows: dict[int, int] = field(default_factory=dict)
    vpr_absent: dict[int, int] = field(default_factory=dict)
    vpr_files: dict[int, int] = field(default_factory=dict)
    vpr_report_files: dict[int, int] = field(default_factory=dict)
    gia_rows: dict[int, int] = field(default_factory=dict)
    oracle: list[pd.DataFrame] = field(default_factory=list)


class _FormWriter:
    """Writes ВПР files, in worker processes when `workers` > 1 (each file is independent of the others)."""

    def __init__(self, landing: Path, workers: int):
        self.landing = landing
        self.pool = (
            ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) if workers > 1 else None
        )
        self.pending: list[Future] = []

    def _submit(self, function, payload) -> None:
        if self.pool is None:
            function(self.landing, payload)
        else:
            self.pending.append(self.pool.submit(function, self.landing, payload))

    def write_forms(self, forms: list[dict]) -> None:
        """A1 forms, a chunk of them per task."""
        for start in range(0, len(forms), FORMS_PER_TASK):
            self._submit(write_a1_forms, forms[start : start + FORMS_PER_TASK])

    def write_region_file(self, payload: dict) -> None:
        """One A2 or A3 region export."""
        self._submit(write_region_file, payload)

    def wait(self) -> None:
        for future in self.pending:
            future.result()
        self.pending.clear()

    def close(self) -> None:
        self.wait()
        if self.pool is not None:
            self.pool.shutdown()


def _remove_previous_output(out: Path) -> None:
    """Deletes only files this generator writes, so other files dropped in the folder survive.

    Folders left empty under vpr/<YYYY>/ (a school's or a grade's) and vpr_reports/<YYYY>/ go too.
    """
    for pattern in GENERATED_FILES:
        for path in out.glob(pattern):
            path.unlink()
    for folder in sorted(
        [*out.glob("vpr/[0-9][0-9][0-9][0-9]/*/"), *out.glob("vpr_reports/[0-9][0-9][0-9][0-9]/")], reverse=True
    ):
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()


def _rows(frame: pd.DataFrame) -> list[list]:
    return [[None if pd.isna(v) else v for v in row] for row in frame.astype(object).values.tolist()]


def _write_participant_files(
    batch: VprBatch, schools: Schools, seed: int, parquet: VprParquet | None, forms: _FormWriter, totals: _Totals
) -> None:
    """One work's participant rows in the year's real layout (or the federal Parquet file)."""
    year = batch.year
    if parquet:
        parquet.write(batch, schools.login)
    elif layout_for(year) == "A1":
        payloads = a1_payloads(batch, schools, seed)
        forms.write_forms(payloads)
        totals.vpr_files[year] += len(payloads)
        totals.vpr_absent[year] += sum(int(p["rows"]["absent"].sum()) for p in payloads)
    elif len(batch):
        payload = region_payload(batch, schools, seed)
        forms.write_region_file(payload)
        totals.vpr_files[year] += 1
        totals.vpr_absent[year] += int(payload["rows"]["absent"].sum())


def _generate_year(
    year: int,
    schools: Schools,
    plan: Plan,
    works: tuple[str, ...],
    seed: int,
    out: Path,
    federal: bool,
    vpr_level: str,
    forms: _FormWriter,
    totals: _Totals,
) -> pd.DataFrame:
    """Generates and writes one year's ВПР (participant files, reports or both) and ГИА; returns its
    per-school work statistics."""
    cohorts = cohort_counts(schools, seed, year)
    participant_files, report_files = vpr_level in ("participants", "both"), vpr_level in ("reports", "both")
    as_parquet = federal or plan.profile.vpr_participant_files == "parquet"
    parquet = VprParquet(out / "vpr" / f"vpr_{year}.parquet") if as_parquet and participant_files else None
    counts, report_counts = [], []
    totals.vpr_rows[year] = totals.vpr_absent[year] = totals.vpr_files[year] = 0
    for work in works:
        batch = generate_vpr(schools, plan, cohorts, year, work, seed)
        if participant_files:
            _write_participant_files(batch, schools, seed, parquet, forms, totals)
        if report_files:
            report_counts.append(vpr_reports.work_counts(batch))
        counts.append(fioko.vpr_counts(batch))
        if plan.profile.oracle:
            totals.oracle.append(
                oracle.work_frame(
                    work,
                    year,
                    batch.school,
                    batch.offsets,
                    batch.scores,
                    batch.primary,
                    batch.journal,
                    batch.latent_mean,
                    schools.journal_leniency,
                    schools.login,
                )
            )
        totals.vpr_rows[year] += len(batch)
    if parquet:
        parquet.close()
    totals.vpr_report_files[year] = vpr_reports.write_year_reports(out, schools, year, report_counts)
    gia = generate_gia(schools, plan, cohorts, year, seed)
    if federal:  # millions of rows: the CSV layout, streamed and checked in DuckDB
        write_gia_csv(out / "gia" / f"gia_{year}.csv", gia, schools.login)
    else:  # as РЦОИ sends them: a list per exam and day; only school marks (2020 ОГЭ) in the CSV layout
        municipalities = schools.registry["municipality"].to_numpy()
        msu = {name: f"{i + 101}" for i, name in enumerate(sorted(set(municipalities)))}
        school_marks = write_gia_lists(
            out,
            gia,
            schools.login,
            gia_school_codes(len(schools)),
            np.array([msu[m] for m in municipalities], dtype=object),
            seed,
        )
        if school_marks:
            write_gia_csv(out / "gia" / f"gia_{year}.csv", school_marks, schools.login)
    totals.gia_rows[year] = sum(len(rows) for rows in gia)
    counts += [fioko.gia_counts(rows, len(schools)) for rows in gia]
    return fioko.work_stats(year, counts)


def _fioko_names(schools: Schools, seed: int) -> np.ndarray:
    rng = stream(seed, "fioko-names")
    quirky = rng.random(len(schools)) < QUIRKY_NAME_SHARE
    return np.array(
        [
            names.fioko_style_name(n).replace(" ", "  ", 1) if q else names.fioko_style_name(n)
            for n, q in zip(schools.registry["full_name"], quirky)
        ],
        dtype=object,
    )


def _write_registry(out: Path, schools: Schools, last_year: int) -> None:
    header = [
        "Логин",
        "Полное наименование",
        "Краткое наименование",
        "Муниципалитет",
        "Тип населённого пункта",
        "Тип ОО",
        "Контингент",
        "Год открытия",
    ]
    frame = schools.registry.drop(columns="region_code")
    write_titled_table(
        out / "registry" / "schools.xlsx",
        "Реестр ОО",
        ["Реестр общеобразовательных организаций", f"по состоянию на 01.09.{last_year}"],
        header,
        _rows(frame),
        len(frame),
    )


def _write_shnor_lists(out: Path, schools: Schools, shnor: pd.DataFrame, list_years: list[int]) -> None:
    registry = schools.registry
    for year in list_years:
        listed = shnor[shnor["list_year"] == year]
        frame = pd.DataFrame(
            {
                "year": year,
                "login": registry["login"].to_numpy()[listed["school"]],
                "name": registry["short_name"].to_numpy()[listed["school"]],
                "municipality": registry["municipality"].to_numpy()[listed["school"]],
                "level": listed["level"].to_numpy(),
            }
        ).sort_values(["municipality", "login"])
        write_titled_table(
            out / "fioko" / f"shnor_{year}.xlsx",
            "Перечень",
            [f"Перечень ОО с низкими образовательными результатами, {year}"],
            ["Год", "Логин", "Наименование ОО", "Муниципалитет", "Уровень результатов"],
            _rows(frame),
        )


def _write_markers(
    out: Path, schools: Schools, plan: Plan, stats: pd.DataFrame, year: int, seed: int, fioko_names: np.ndarray
) -> None:
    markers = fioko.objectivity_markers(plan, stats, year, seed)
    registry = schools.registry
    school = markers["school"].to_numpy()
    frame = pd.DataFrame(
        {
            "year": str(year),
            "login": registry["login"].to_numpy()[school],
            "municipality": registry["municipality"].to_numpy()[school],
            "name": fioko_names[school],
        }
    )
    for column in MARKER_COLUMNS:
        frame[column] = markers[column].astype("Int64").to_numpy()
    frame["count"] = markers[list(MARKER_COLUMNS)].astype(float).sum(axis=1).astype(int).to_numpy()
    frame = frame.sort_values(["municipality", "login"])
    header = ["Год", "Логин", "Муниципалитет", "ОО", *MARKER_COLUMNS, "Количество маркеров"]
    write_objectivity_markers(out / "fioko" / f"objectivity_markers_{year}.xlsx", header, _rows(frame))


def _write_risk_profiles(
    out: Path, schools: Schools, stats: pd.DataFrame, shnor: pd.DataFrame, is_shnsu: np.ndarray, year: int, seed: int
) -> None:
    """«500+» profiles of the year's ШНОР list and the ШНСУ schools."""
    listed = set(shnor.loc[shnor["list_year"] == year, "school"])
    profiled = sorted(listed | set(np.flatnonzero(is_shnsu & schools.exists_in(year)).tolist()))
    profiles = fioko.risk_profiles(schools, stats, profiled, year, seed)
    registry = schools.registry
    frame = pd.DataFrame(
        {
            "year": year,
            "login": registry["login"].to_numpy()[profiles["school"]],
            "name": registry["short_name"].to_numpy()[profiles["school"]],
            "factor": profiles["factor"].to_numpy(),
            "level": profiles["level"].to_numpy(),
        }
    )
    write_titled_table(
        out / "fioko" / f"risk_profiles_{year}.xlsx",
        "Рисковые профили",
        [f"Рисковые профили ОО (проект «500+»), {year}"],
        ["Год", "Логин", "Наименование ОО", "Фактор риска", "Уровень риска"],
        _rows(frame),
        len(frame),
    )


def _write_passports(out: Path, schools: Schools, plan: Plan, years: list[int], seed: int) -> str:
    """Writes every year's passport; returns the detail of the planted inconsistent share."""
    detail = ""
    for year in years:
        frame = passport.passport(schools, year, seed)
        if plan.passport_inconsistent and plan.passport_inconsistent[1] == year:
            detail = passport.make_share_inconsistent(frame, schools.login[plan.passport_inconsistent[0]])
        rng = stream(seed, "messy-logins", year)
        messy = rng.choice(len(frame), size=max(1, round(MESSY_LOGIN_SHARE * len(frame))), replace=False)
        frame.loc[messy, "login"] = frame.loc[messy, "login"].str.upper() + " "
        write_titled_table(
            out / "social_passport" / f"social_passport_{year}.xlsx",
            "Социальный паспорт",
            [f"Социальный паспорт ОО, {year}"],
            list(passport.HEADERS.values()),
            _rows(frame),
            len(frame),
        )
    return detail


def _vpr_layout(scale: str, year: int, vpr_level: str, anomalies: Profile) -> str:
    as_parquet = scale == "federal" or anomalies.vpr_participant_files == "parquet"
    participants = "parquet" if as_parquet else layout_for(year)
    return {"participants": participants, "reports": "reports", "both": f"{participants} + reports"}[vpr_level]


def _manifest(
    scale: str,
    years: list[int],
    seed: int,
    works: tuple[str, ...],
    vpr_level: str,
    schools: Schools,
    planted: pd.DataFrame,
    shnor: pd.DataFrame,
    is_shnsu: np.ndarray,
    totals: _Totals,
    anomalies: Profile,
) -> dict:
    registry = schools.registry
    return {
        "generator": "pipelines.synth",
        "scale": scale,
        "anomalies": anomalies.name,
        "years": years,
        "seed": seed,
        "works": list(works),
        "vpr_level": vpr_level,
        "counts": {
            "regions": int(registry["region_code"].nunique()),
            "municipalities": int(registry[["region_code", "municipality"]].drop_duplicates().shape[0]),
            "schools": len(registry),
            "vpr_rows": {str(y): n for y, n in totals.vpr_rows.items()},
            "vpr_absent": {str(y): n for y, n in totals.vpr_absent.items()},
            "vpr_files": {str(y): n for y, n in totals.vpr_files.items()},
            "vpr_report_files": {str(y): n for y, n in totals.vpr_report_files.items()},
            "vpr_layouts": {str(y): _vpr_layout(scale, y, vpr_level, anomalies) for y in years},
            "gia_rows": {str(y): n for y, n in totals.gia_rows.items()},
            "planted_schools": dict(sorted(Counter(planted.drop_duplicates(["case", "login"])["case"]).items())),
            "planted_rows": dict(sorted(Counter(planted["case"]).items())),
            "shnor_by_list_year": {str(y): int((shnor["list_year"] == y).sum()) for y in [y + 1 for y in years]},
            "shnsu_schools": int(is_shnsu.sum()),
        },
    }


def generate(
    scale: str,
    years: range | list[int],
    seed: int,
    out: Path,
    works: tuple[str, ...] | None = None,
    workers: int | None = None,
    vpr_level: str = "participants",
    anomalies: str = DEFAULT_PROFILE,
) -> Path:
    """Writes every input of docs/inputs.md for `years` into the landing folder `out`, plus ground_truth/.

    Deterministic per seed. `works` defaults to the scale's (every work at federal scale, else grades 4–6).
    `workers` (default: 2 at region scale, else 1) processes write the ВПР files. ВПР rows are written
    in the year's real layout (vpr_files.py): region exports up to 2022, per-school forms from 2023.
    `vpr_level` "reports" writes the same simulated participants as ФИС ОКО's aggregated reports instead
    (vpr_reports.py), "both" writes both; everything else, the ground truth included, is the same.
    `anomalies` names the profile of anomalies.yml that says which cases are planted and how strongly; a
    profile may write ВПР participant rows as Parquet, as at federal scale.
    """
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; expected one of {', '.join(SCALES)}")
    if vpr_level not in VPR_LEVELS:
        raise ValueError(f"unknown ВПР level {vpr_level!r}; expected one of {', '.join(VPR_LEVELS)}")
    works = works or default_works(SCALES[scale].every_vpr_work)
    years = sorted(int(y) for y in years)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    _remove_previous_output(out)
    schools = build_schools(scale, seed, years[-1])
    anomaly_profile = profile(anomalies)
    plan = make_plan(schools, years, works, seed, anomaly_profile)
    totals = _Totals()
    forms = _FormWriter(out, workers if workers is not None else (2 if scale == "region" else 1))
    try:
        stats = pd.concat(
            [
                _generate_year(year, schools, plan, works, seed, out, scale == "federal", vpr_level, forms, totals)
                for year in years
            ],
            ignore_index=True,
        )
    finally:
        forms.close()

    list_years = [y + 1 for y in years]
    shnor = fioko.shnor_list(stats, list_years)
    is_shnsu = fioko.shnsu_flags(schools)
    fioko_names = _fioko_names(schools, seed)
    _write_registry(out, schools, years[-1])
    if scale != "federal":
        write_gia_school_codes(
            out / "registry" / "gia_school_codes.xlsx",
            schools.login,
            schools.registry["short_name"].to_numpy(),
            gia_school_codes(len(schools)),
            years,
        )
    _write_shnor_lists(out, schools, shnor, list_years)
    for year in (y for y in years if y >= FIRST_MARKERS_YEAR):
        _write_markers(out, schools, plan, stats, year, seed, fioko_names)
        _write_risk_profiles(out, schools, stats, shnor, is_shnsu, year, seed)
    passport_detail = _write_passports(out, schools, plan, years, seed)

    planted = truth.planted_frame(plan, schools, stats, passport_detail)
    manifest = _manifest(
        scale, years, seed, works, vpr_level, schools, planted, shnor, is_shnsu, totals, anomaly_profile
    )
    truth.write_ground_truth(
        out,
        planted,
        truth.shnor_expected_frame(shnor, schools),
        truth.shnsu_frame(schools, is_shnsu, years),
        manifest,
        pd.concat(totals.oracle, ignore_index=True) if totals.oracle else None,
    )
    return out
