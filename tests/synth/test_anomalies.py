"""The anomaly model as data (pipelines/synth/anomalies.yml) and the validation profile's ground truth."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from pipelines.synth import generate
from pipelines.synth.anomalies import SIZE_CLASSES, profile, profiles
from pipelines.synth.plan import VPR_CASES

VALIDATION_YEARS = [2021, 2022, 2023]


@pytest.fixture(scope="module")
def validation_landing(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("validation")
    return generate("validation", VALIDATION_YEARS, 201, out, anomalies="validation")


@pytest.fixture(scope="module")
def planted(validation_landing) -> pd.DataFrame:
    return pd.read_csv(validation_landing / "ground_truth" / "planted.csv")


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
