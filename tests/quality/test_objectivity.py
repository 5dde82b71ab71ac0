"""Objectivity signs on the sample: planted cases are flagged, honest high performers and others are not.

Ground truth comes from the generator (data/sample/ground_truth/planted.csv). The sample is municipality
scale; region-scale recall and false-flag rates are measured by pipelines.defs.quality.detection_report.
"""

import pytest

from tests.quality.sample_run import CONFIRMED, DISMISSED

MANIPULATION_CASES = (
    "vpr_inflated_level",
    "vpr_lenient_grading_at_cuts",
    "vpr_help_on_hard_tasks",
    "vpr_above_journal",
    "vpr_jump_then_fall",
)


def test_monitoring_run_succeeds(sample):
    assert sample.success


def flagged(sample):
    return sample.query("select login, year, work_code, sign from objectivity.mart_objectivity_flags where flagged")


@pytest.mark.parametrize(
    "case, expected_sign",
    [
        # One mark up on every work for one year, back the next: the inflated school of the sample.
        ("vpr_jump_then_fall", "jump_then_fall"),
        ("vpr_help_on_hard_tasks", "task_inversion"),
        ("vpr_above_journal", "vpr_above_journal"),
        ("vpr_lenient_grading_at_cuts", "heaping_at_cuts"),
    ],
)
def test_planted_case_is_flagged_by_its_sign(sample, case, expected_sign):
    planted = sample.planted()
    planted = planted[planted["case"] == case]
    flags = flagged(sample)
    hits = flags.merge(planted[["login", "year"]].drop_duplicates(), on=["login", "year"])
    assert expected_sign in set(hits["sign"]), f"{case}: flagged signs {sorted(set(hits['sign']))}"


def test_every_flag_in_the_sample_is_a_planted_manipulation(sample):
    planted = sample.planted()
    manipulated = set(map(tuple, planted[planted["case"].isin(MANIPULATION_CASES)][["login", "year"]].to_numpy()))
    flags = flagged(sample)
    assert len(flags) > 0
    unexpected = {(login, year) for login, year in zip(flags["login"], flags["year"])} - manipulated
    assert not unexpected, f"flagged school-years without a planted case: {sorted(unexpected)}"


def test_honest_high_performers_are_good_but_not_flagged(sample):
    planted = sample.planted()
    honest = sorted(set(planted.loc[planted["case"] == "honest_high_performer", "login"]))
    tests = sample.query(
        "select login, sign, triggered, flagged from objectivity.mart_objectivity_flags "
        f"where login in ({', '.join(repr(login) for login in honest)})"
    )
    assert honest and len(tests) > 0
    # Their results are above the region's (the level test triggers) …
    assert tests[(tests["sign"] == "level_above_region") & tests["triggered"]]["login"].nunique() >= 1
    # … but the ОГЭ and the journal confirm them, so nothing is flagged.
    assert not tests["flagged"].any()


def test_a_small_class_at_100_percent_is_not_evidence(sample):
    small = sample.query(
        "select * from objectivity.obj_sign_tests where sign = 'level_above_region' and n <= 5 and estimate = 1"
    )
    assert len(small) > 0, "the sample has small classes with only «4» and «5»"
    assert not small["triggered"].any()
    # The Wilson lower bound of 5 of 5 at z = 1.96 is 0.57: below a typical region share plus margin.
    assert small.loc[small["n"] == 5, "ci_low"].max() < 0.6


def test_flags_carry_statistic_interval_threshold_and_reason(sample):
    flags = sample.query("select * from objectivity.mart_objectivity_flags where flagged")
    assert flags["estimate"].notna().all() and flags["threshold"].notna().all()
    assert (flags["ci_low"] > flags["threshold"]).all()
    assert flags["reason"].str.contains("порог").all()


def test_reviewed_flags_keep_their_decision_and_stay_visible(sample):
    flags = sample.query(
        "select login, year, work_code, sign, flagged, status, reviewer "
        "from objectivity.mart_objectivity_flags where flagged"
    )
    status = {tuple(row[:4]): row[5] for row in flags.itertuples(index=False)}
    assert status[DISMISSED] == "снято"
    assert status[CONFIRMED] == "подтверждено"
    pending = [key for key, value in status.items() if key not in (DISMISSED, CONFIRMED)]
    assert pending and all(status[key] == "на проверке" for key in pending)


def test_school_year_summary_status(sample):
    summary = sample.query("select login, year, flagged, status, flags from objectivity.mart_objectivity_school_year")
    by_key = {(row.login, row.year): row for row in summary.itertuples(index=False)}
    # The jump-then-fall school has flags nobody reviewed yet.
    assert by_key[("sch860021", 2023)].status == "на проверке"
    assert not summary.loc[~summary["flagged"], "status"].notna().any()
