"""The validation report: recall of the objectivity signs per anomaly type × strength × size class on the
validation profile's generated regions, their false-flag rate, the controls, and the oracle bound.

Seeds 101–102 are the tuning family (thresholds may be chosen looking at them), 201–202 the held-out
family (report on them only). docs/validation.md describes the anomaly model and the oracle.

The oracle knows the generating model (ground_truth/oracle.csv: per school, year and work, the expected
per-student statistics had the school not manipulated anything, and their observed means) but not which
schools are planted nor how strongly. Per anomaly type it combines the z statistics of the type's
direction over the number of works the type affects (Stouffer, over the largest ones); a school-year's
score is its highest rank among the clean school-years over the types; the threshold flags 2 % of the
clean school-years.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from pipelines.synth.anomalies import SIZE_CLASSES, Profile, size_class
from pipelines.synth.plan import VPR_CASES

CONTROLS = ("honest_high_performer", "improving_school")
TUNING_SEEDS, HELD_OUT_SEEDS = (101, 102), (201, 202)
ORACLE_FALSE_FLAG_RATE = 0.02
# The statistic of oracle.csv each anomaly type moves upwards.
CASE_STATISTIC = {
    "vpr_inflated_level": "mark",
    "vpr_jump_then_fall": "mark",
    "vpr_above_journal": "gap",
    "vpr_lenient_grading_at_cuts": "cut",
    "vpr_help_on_hard_tasks": "help",
}
KEY = ["seed", "login", "year"]
STRENGTH_ORDER = {"weak": 0, "moderate": 1, "strong": 2}  # the validation profile's; others sort after


def _stouffer_of_largest(z: pd.Series, works: int | None) -> float:
    largest = np.sort(z.to_numpy())[::-1][: works or len(z)]
    return float(largest.sum() / np.sqrt(len(largest)))


def oracle_scores(oracle: pd.DataFrame, anomalies: Profile) -> pd.DataFrame:
    """Per seed, login and year: one combined statistic per test (statistic, works combined) of the types."""
    tests = sorted({(CASE_STATISTIC[c], anomalies.cases[c].works or 0) for c in VPR_CASES})
    frame = oracle[KEY].copy()
    root_n = np.sqrt(oracle["participants"].to_numpy())
    for statistic in {s for s, _ in tests}:
        observed, mean, sd = (oracle[f"{statistic}_{part}"].to_numpy() for part in ("observed", "expected", "sd"))
        frame[statistic] = (observed - mean) / sd * root_n
    grouped = frame.groupby(KEY)
    columns = {
        f"{statistic}_top{works or 'all'}": grouped[statistic].apply(_stouffer_of_largest, works or None)
        for statistic, works in tests
    }
    return pd.DataFrame(columns).reset_index()


def oracle_flags(scores: pd.DataFrame, clean: pd.Series) -> tuple[pd.Series, float]:
    """Whether the oracle flags each school-year, and its false-flag rate on the clean school-years.

    Each test is ranked against the clean school-years; the score is the highest rank over the tests and
    the threshold is the quantile of the clean scores that leaves ORACLE_FALSE_FLAG_RATE above it.
    """
    tests = [c for c in scores.columns if c not in KEY]
    ranks = pd.DataFrame(index=scores.index)
    for test in tests:
        reference = np.sort(scores.loc[clean, test].to_numpy())
        ranks[test] = np.searchsorted(reference, scores[test].to_numpy(), side="right") / len(reference)
    score = ranks.max(axis=1)
    threshold = float(np.quantile(score[clean], 1 - ORACLE_FALSE_FLAG_RATE))
    flagged = score > threshold
    return flagged, float(flagged[clean].mean())


def school_years(oracle: pd.DataFrame, planted: pd.DataFrame, flagged: pd.DataFrame) -> pd.DataFrame:
    """Every assessed school-year: its size class (median participants over its works), whether its school
    has a planted ВПР case or is a control, and whether the pipeline flags it."""
    years = oracle.groupby(KEY)["participants"].median().rename("participants").reset_index()
    years["size_class"] = [size_class(int(n)) for n in years["participants"]]
    manipulated = set(zip(*(planted.loc[planted["case"].isin(VPR_CASES), c] for c in ("seed", "login"))))
    years["clean"] = [(s, login) not in manipulated for s, login in zip(years["seed"], years["login"])]
    for control in CONTROLS:
        schools = set(zip(*(planted.loc[planted["case"] == control, c] for c in ("seed", "login"))))
        years[control] = [(s, login) in schools for s, login in zip(years["seed"], years["login"])]
    hits = set(zip(*(flagged[c] for c in KEY)))
    years["flagged"] = [key in hits for key in zip(*(years[c] for c in KEY))]
    return years


def recall_table(planted: pd.DataFrame, years: pd.DataFrame) -> pd.DataFrame:
    """Per anomaly type × strength × size class: planted school-years, flagged by the pipeline and by the
    oracle, and both recalls."""
    cases = planted[planted["case"].isin(VPR_CASES)].drop_duplicates(KEY)
    merged = cases[[*KEY, "case", "strength", "size_class"]].merge(
        years[[*KEY, "flagged", "oracle"]], on=KEY, how="left"
    )
    merged[["flagged", "oracle"]] = merged[["flagged", "oracle"]].fillna(False).astype(bool)
    table = (
        merged.groupby(["case", "strength", "size_class"], sort=False)
        .agg(school_years=("flagged", "size"), flagged=("flagged", "sum"), oracle_flagged=("oracle", "sum"))
        .reset_index()
    )
    table["recall"] = table["flagged"] / table["school_years"]
    table["oracle_recall"] = table["oracle_flagged"] / table["school_years"]
    table["order"] = [
        (VPR_CASES.index(c), STRENGTH_ORDER.get(s, len(STRENGTH_ORDER)), SIZE_CLASSES.index(z))
        for c, s, z in zip(table["case"], table["strength"], table["size_class"])
    ]
    return table.sort_values("order").drop(columns="order").reset_index(drop=True)


def recall_by_size(planted: pd.DataFrame, years: pd.DataFrame) -> pd.DataFrame:
    """Recall over all types and strengths, per size class and strength."""
    table = recall_table(planted, years)
    summary = table.groupby(["strength", "size_class"]).agg(
        school_years=("school_years", "sum"), flagged=("flagged", "sum"), oracle_flagged=("oracle_flagged", "sum")
    )
    summary["recall"] = summary["flagged"] / summary["school_years"]
    summary["oracle_recall"] = summary["oracle_flagged"] / summary["school_years"]
    summary = summary.reset_index()
    summary["order"] = [
        (STRENGTH_ORDER.get(s, len(STRENGTH_ORDER)), SIZE_CLASSES.index(z))
        for s, z in zip(summary["strength"], summary["size_class"])
    ]
    return summary.sort_values("order").drop(columns="order").reset_index(drop=True)


def false_flag_table(years: pd.DataFrame) -> pd.DataFrame:
    """Flag rates of the pipeline and the oracle among clean school-years (overall, by size class) and the
    controls."""
    groups = [("clean school-years", years["clean"])]
    groups += [(f"clean, {size}", years["clean"] & (years["size_class"] == size)) for size in SIZE_CLASSES]
    groups += [(control, years["clean"] & years[control]) for control in CONTROLS]
    rows = []
    for label, mask in groups:
        n = int(mask.sum())
        rows.append(
            {
                "group": label,
                "school_years": n,
                "flagged": int(years.loc[mask, "flagged"].sum()),
                "flag_rate": years.loc[mask, "flagged"].mean() if n else float("nan"),
                "oracle_flagged": int(years.loc[mask, "oracle"].sum()),
                "oracle_flag_rate": years.loc[mask, "oracle"].mean() if n else float("nan"),
            }
        )
    return pd.DataFrame(rows)


def validation_tables(
    planted: pd.DataFrame, oracle: pd.DataFrame, flagged: pd.DataFrame, anomalies: Profile
) -> dict[str, pd.DataFrame]:
    """The report's tables from the pooled seeds (a `seed` column in each frame)."""
    years = school_years(oracle, planted, flagged)
    scored = years[[*KEY, "clean"]].merge(oracle_scores(oracle, anomalies), on=KEY, how="left")
    flags, _ = oracle_flags(scored.drop(columns="clean"), scored["clean"])
    years["oracle"] = flags.to_numpy()
    return {
        "Recall by anomaly type, strength and size class": recall_table(planted, years),
        "Recall by strength and size class, all types": recall_by_size(planted, years),
        "Flag rates among school-years without a planted ВПР case": false_flag_table(years),
    }


def render(tables: dict[str, pd.DataFrame], markdown: bool = False) -> str:
    parts = []
    for title, table in tables.items():
        if markdown:
            parts.append(f"**{title}**\n\n" + table.to_markdown(index=False, floatfmt=".3f"))
        else:
            parts.append(title + "\n" + table.to_string(index=False, float_format="{:.3f}".format))
    return "\n\n".join(parts) + "\n"


def seed_family(seeds: list[int]) -> str:
    if set(seeds) <= set(HELD_OUT_SEEDS):
        return "held-out family"
    if set(seeds) <= set(TUNING_SEEDS):
        return "tuning family"
    return "seeds outside the tuning and held-out families"


def read_seed(landing: Path, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """planted.csv and oracle.csv of one generated landing folder, with its seed."""
    truth = landing / "ground_truth"
    return (
        pd.read_csv(truth / "planted.csv").assign(seed=seed),
        pd.read_csv(truth / "oracle.csv").assign(seed=seed),
    )
