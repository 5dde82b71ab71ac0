"""The anomaly model as data (pipelines/synth/anomalies.yml), the validation profile's ground truth and the
oracle bound of the validation report (pipelines/defs/quality/validation.py)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipelines.defs.quality import validation
from pipelines.defs.quality.validation import KEY
from pipelines.synth import generate
from pipelines.synth.anomalies import SIZE_CLASSES, profile, profiles
from pipelines.synth.oracle import STATISTICS
from pipelines.synth.plan import VPR_CASES

VALIDATION_YEARS = [2021, 2022, 2023]
SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"


@pytest.fixture(scope="module")
def validation_landing(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("validation")
    return generate("validation", VALIDATION_YEARS, 201, out, anomalies="validation")


@pytest.fixture(scope="module")
def planted(validation_landing) -> pd.DataFrame:
    return pd.read_csv(validation_landing / "ground_truth" / "planted.csv")


def test_the_default_profile_regenerates_the_bundled_sample_byte_for_byte(tmp_path):
    generate("municipality", range(2019, 2025), 42, tmp_path)  # as README's command line
    written = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert written == sorted(p.relative_to(SAMPLE) for p in SAMPLE.rglob("*") if p.is_file())
    changed = [str(p) for p in written if (tmp_path / p).read_bytes() != (SAMPLE / p).read_bytes()]
    assert not changed


def test_every_vpr_case_of_every_profile_has_named_strengths_with_their_effects():
    parameters = {
        "vpr_inflated_level": {"boost", "journal"},
        "vpr_jump_then_fall": {"boost"},
        "vpr_above_journal": {"weak_boost", "journal"},
        "vpr_help_on_hard_tasks": {"easy_shift", "hard_shift"},
        "vpr_lenient_grading_at_cuts": {"window", "share"},
    }
    for anomalies in profiles().values():
        for case in VPR_CASES:
            strengths = anomalies.cases[case].strengths
            assert strengths, (anomalies.name, case)
            assert all(set(effect) == parameters[case] for effect in strengths.values()), (anomalies.name, case)
    assert set(profile("validation").cases["vpr_inflated_level"].strengths) == {"weak", "moderate", "strong"}


def test_planted_keeps_its_first_columns_and_adds_strength_and_size_class(planted):
    assert list(planted.columns) == ["login", "year", "case", "work_code", "detail", "strength", "size_class"]


def test_each_case_strength_and_size_class_has_planted_school_years(planted):
    vpr = planted[planted["case"].isin(VPR_CASES)]
    cells = vpr.drop_duplicates(["login", "year"]).groupby(["case", "strength", "size_class"]).size()
    expected = pd.MultiIndex.from_product([VPR_CASES, ["weak", "moderate", "strong"], SIZE_CLASSES])
    assert set(cells.index) == set(expected)
    assert cells.min() >= 3  # three years here; the six-year report has twice as many per seed


def test_size_class_follows_the_participants_of_the_planted_work(planted):
    vpr = planted[planted["case"].isin(VPR_CASES)]
    participants = vpr["detail"].str.extract(r"; (\d+) participants")[0].astype(int)
    assert ((participants < 15) == (vpr["size_class"] == "small")).all()


def test_planted_schools_are_a_small_share_of_the_region(validation_landing, planted):
    manifest = json.loads((validation_landing / "ground_truth" / "manifest.json").read_text(encoding="utf-8"))
    manipulated = planted.loc[planted["case"].isin(VPR_CASES), "login"].nunique()
    assert manifest["anomalies"] == "validation"
    assert manipulated / manifest["counts"]["schools"] < 0.2


def test_the_validation_profile_writes_vpr_as_parquet(validation_landing):
    assert sorted(p.name for p in (validation_landing / "vpr").glob("vpr_*.parquet")) == [
        f"vpr_{year}.parquet" for year in VALIDATION_YEARS
    ]


@pytest.fixture(scope="module")
def seed_frames(validation_landing) -> tuple[pd.DataFrame, pd.DataFrame]:
    return validation.read_seed(validation_landing, 201)


def test_oracle_z_statistics_are_standard_normal_on_schools_without_planted_cases(seed_frames):
    planted, oracle = seed_frames
    touched = set(planted.loc[planted["case"].str.startswith(("vpr_", "shnor_")), "login"])
    clean = oracle[~oracle["login"].isin(touched)]
    for statistic in STATISTICS:
        rows = clean[clean[f"{statistic}_sd"] > 1e-3]
        z = (rows[f"{statistic}_observed"] - rows[f"{statistic}_expected"]) / rows[f"{statistic}_sd"]
        z *= np.sqrt(rows["participants"])
        assert abs(z.mean()) < 0.1 and 0.9 < z.std() < 1.1, (statistic, z.mean(), z.std())


def test_the_oracle_separates_planted_from_clean_school_years(seed_frames):
    planted, oracle = seed_frames
    tables = validation.validation_tables(planted, oracle, pd.DataFrame(columns=KEY), profile("validation"))
    recall = tables["Recall by strength and size class, all types"].set_index(["strength", "size_class"])
    rates = tables["Flag rates among school-years without a planted ВПР case"].set_index("group")
    assert rates.loc["clean school-years", "oracle_flag_rate"] <= 0.025
    assert recall.loc[("strong", "normal"), "oracle_recall"] >= 0.9
    assert recall.loc[("weak", "small"), "oracle_recall"] < recall.loc[("strong", "normal"), "oracle_recall"]
    assert (recall["recall"] == 0).all() and rates["flagged"].sum() == 0


def test_a_school_year_counts_as_flagged_by_the_pipeline_when_any_of_its_rows_is(seed_frames):
    planted, oracle = seed_frames
    jumps = planted[planted["case"] == "vpr_jump_then_fall"]
    flags = pd.concat([jumps[KEY], jumps[KEY]], ignore_index=True)  # two flagged rows of one school-year
    clean_login = sorted(set(oracle["login"]) - set(planted["login"]))[0]
    flags.loc[len(flags)] = {"seed": 201, "login": clean_login, "year": 2022}
    tables = validation.validation_tables(planted, oracle, flags, profile("validation"))
    recall = tables["Recall by anomaly type, strength and size class"]
    assert (recall.loc[recall["case"] == "vpr_jump_then_fall", "recall"] == 1).all()
    assert (recall.loc[recall["case"] != "vpr_jump_then_fall", "recall"] == 0).all()
    rates = tables["Flag rates among school-years without a planted ВПР case"].set_index("group")
    assert rates.loc["clean school-years", "flagged"] == 1
    assert "| vpr_jump_then_fall" in validation.render(tables, markdown=True)
