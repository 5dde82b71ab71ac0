"""Ground truth beside the generated landing folder (`ground_truth/`, ignored by the pipeline).

- planted.csv: login, year, case, work_code, detail, strength, size_class — every planted case, near
  misses, honest high performers and improving schools included. `work_code` is the ВПР work (`MA5`) for
  ВПР cases and the FIOKO work label (`ВПР MA5`, `ОГЭ MA`, `ЕГЭ MA_PROF`, …) for ШНОР cases; `year` is the
  results year; `strength` the named strength of anomalies.yml (ВПР cases); `size_class` «small» (under 15
  participants on the work) or «normal», for cases planted on a work.
- shnor_expected.csv: login, year (of the list), criterion, level, low_works — the FIOKO rule applied to
  the generated data; it equals the generated official lists.
- shnsu_expected.csv: login, year, context_latent, is_shnsu — the latent social context and whether the
  school is in the bottom 15 % of its region.
- manifest.json: scale, anomaly profile, years, seed, works and counts.
- oracle.csv (profiles with `oracle: true`): login, year, work_code, participants and, per statistic of
  oracle.py, its expectation and SD per student under no manipulation and its observed mean.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from pipelines.synth.anomalies import size_class
from pipelines.synth.plan import SHNOR_CASES, Plan
from pipelines.synth.schools import Schools

PLANTED_COLUMNS = ["login", "year", "case", "work_code", "detail", "strength", "size_class"]
VPR_CASE_DETAILS = {
    "vpr_inflated_level": "all marks shifted up (about one mark), journal as generous, ОГЭ/ЕГЭ at the true level",
    "vpr_lenient_grading_at_cuts": "primary scores a few points under the «3»/«4» cut raised to the cut",
    "vpr_help_on_hard_tasks": "worse than usual on basic tasks, much better on advanced and high ones",
    "vpr_above_journal": "weaker students' ВПР raised about one mark above their journal marks",
    "vpr_jump_then_fall": "every ВПР work about one mark up for one year, unexplained by journal or ГИА",
}


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}".replace(".", ",")


def planted_frame(plan: Plan, schools: Schools, stats: pd.DataFrame, passport_detail: str) -> pd.DataFrame:
    logins = schools.login
    counts = stats.set_index(["year", "school", "label"])
    vpr_counts = stats.assign(work=stats["label"].str.removeprefix("ВПР ")).set_index(["year", "school", "work"])
    rows = []
    for p in plan.plants:
        n = None
        if p.case in SHNOR_CASES:
            n, fails = counts.loc[(p.year, p.school, p.work), ["participants", "fails"]]
            detail = f"list {p.list_year}: {fails} of {n} «2» ({_percent(fails, n)} %)"
        elif p.case in VPR_CASE_DETAILS:
            n = vpr_counts.loc[(p.year, p.school, p.work), "participants"]
            detail = f"{VPR_CASE_DETAILS[p.case]}; {n} participants"
        else:
            detail = ""
        detail = "; ".join(part for part in (detail, p.note) if part)
        rows.append(
            {
                "login": logins[p.school],
                "year": p.year,
                "case": p.case,
                "work_code": p.work,
                "detail": detail,
                "strength": p.strength or None,
                "size_class": None if n is None else size_class(int(n)),
            }
        )
    if plan.passport_inconsistent is not None:
        school, year = plan.passport_inconsistent
        rows.append(
            {
                "login": logins[school],
                "year": year,
                "case": "passport_inconsistent_share",
                "work_code": None,
                "detail": passport_detail,
            }
        )
    frame = pd.DataFrame(rows, columns=PLANTED_COLUMNS)
    frame["year"] = frame["year"].astype("Int64")
    return frame.sort_values(["case", "login", "year", "work_code"], na_position="first").reset_index(drop=True)


def shnor_expected_frame(shnor: pd.DataFrame, schools: Schools) -> pd.DataFrame:
    frame = shnor.assign(login=schools.login[shnor["school"].to_numpy()]).rename(columns={"list_year": "year"})
    return frame[["login", "year", "criterion", "level", "low_works"]].sort_values(["year", "login"])


def shnsu_frame(schools: Schools, is_shnsu: np.ndarray, years: list[int]) -> pd.DataFrame:
    frames = []
    for year in years:
        exists = schools.exists_in(year)
        frames.append(
            pd.DataFrame(
                {
                    "login": schools.login[exists],
                    "year": year,
                    "context_latent": np.round(schools.context[exists], 4),
                    "is_shnsu": np.where(is_shnsu[exists], "true", "false"),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def write_ground_truth(
    out: Path,
    planted: pd.DataFrame,
    shnor: pd.DataFrame,
    shnsu: pd.DataFrame,
    manifest: dict,
    oracle: pd.DataFrame | None = None,
) -> None:
    folder = out / "ground_truth"
    folder.mkdir(parents=True, exist_ok=True)
    planted.to_csv(folder / "planted.csv", index=False, lineterminator="\n")
    shnor.to_csv(folder / "shnor_expected.csv", index=False, lineterminator="\n")
    shnsu.to_csv(folder / "shnsu_expected.csv", index=False, lineterminator="\n")
    if oracle is not None:
        oracle.to_csv(folder / "oracle.csv", index=False, lineterminator="\n")
    (folder / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
