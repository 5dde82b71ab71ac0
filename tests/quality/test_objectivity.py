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


def clean_school_years(sample) -> set:
    planted = sample.planted()
    manipulated = set(planted.loc[planted["case"].isin(MANIPULATION_CASES), "login"])
    assessed = sample.query("select distinct login, year from objectivity.mart_objectivity_school_year")
    return {(login, year) for login, year in zip(assessed["login"], assessed["year"]) if login not in manipulated}


def test_few_school_years_without_a_planted_case_are_flagged(sample):
    """The sample is one municipality of 29 schools, five of them planted: the region's usual values are
    estimated on few schools, so the rate is looser than the validation region's (docs/validation.md)."""
    clean = clean_school_years(sample)
    flags = flagged(sample)
    flagged_clean = {(login, year) for login, year in zip(flags["login"], flags["year"])} & clean
    assert len(clean) > 100
    assert len(flagged_clean) / len(clean) <= 0.05, sorted(flagged_clean)


def test_honest_high_performers_are_good_but_not_flagged_for_being_good(sample):
    planted = sample.planted()
    honest = sorted(set(planted.loc[planted["case"] == "honest_high_performer", "login"]))
    tests = sample.query(
        "select login, year, sign, estimate, reference, flagged from objectivity.mart_objectivity_flags "
        f"where login in ({', '.join(repr(login) for login in honest)})"
    )
    assert honest and len(tests) > 0
    # Their share of «4» and «5» is well above the region's …
    level = tests[tests["sign"] == "level_above_region"]
    assert (level["estimate"] - level["reference"]).mean() > 0.1
    # … but a high result alone never flags, the ОГЭ confirms them, and they help on no tasks.
    assert not level["flagged"].any()
    assert not tests[tests["sign"].isin(["not_confirmed_by_gia", "task_inversion"])]["flagged"].any()
    # Good at every work, so no work stands above their other works.
    own = tests[tests["sign"] == "above_own_works"]
    assert len(own) > 0 and not own["flagged"].any()
    flagged_years = tests[tests["flagged"]][["login", "year"]].drop_duplicates()
    assert len(flagged_years) <= 1, flagged_years


def test_a_work_is_set_against_other_works_only_where_the_school_has_them(sample):
    rows = sample.query("""
        select flags.is_computable, flags.reason, works.works
        from objectivity.mart_objectivity_flags as flags
        inner join (
            select year, login, count(*) filter (where mean_z is not null) as works
            from objectivity.obj_work_stats group by year, login
        ) as works on flags.year = works.year and flags.login = works.login
        where flags.sign = 'above_own_works'
    """)
    assert rows["is_computable"].any()
    assert rows["is_computable"].eq(rows["works"] > 1).all()
    lone = rows[~rows["is_computable"]]
    assert lone["reason"].str.startswith("Не вычисляется: у школы в этом году одна работа ВПР").all()


def test_a_small_class_at_100_percent_is_not_evidence(sample):
    small = sample.query(
        "select * from objectivity.obj_sign_tests where sign = 'level_above_region' and n <= 5 and estimate = 1"
    )
    assert len(small) > 0, "the sample has small classes with only «4» and «5»"
    assert not small["triggered"].any()
    # Five of five against a region at about 50 %, with the spread between schools: well under z = 2.3.
    assert small.loc[small["n"] == 5, "z_score"].max() < 2.3


def test_flags_carry_statistic_expectation_evidence_and_reason(sample):
    flags = sample.query("select * from objectivity.mart_objectivity_flags where flagged")
    assert flags["estimate"].notna().all() and flags["threshold"].notna().all()
    standalone = flags[flags["role"] == "standalone"]
    assert len(standalone) > 0
    # A flagged work deviates the sign's way, and its sign is a discovery at the configured FDR.
    fdr_level = sample.query("select max(fdr_level) as fdr from rules.objectivity_pooling")["fdr"].iloc[0]
    assert (standalone["z_score"] > 0).all()
    assert (standalone["q_value"] <= fdr_level).all()
    assert standalone["reason"].str.contains("ожидается").all()
    assert standalone["reason"].str.contains("признак выявлен").all()
    confirmed = flags[flags["role"] == "needs_confirmation"]
    assert confirmed["reason"].str.contains("Подтверждается другим признаком").all()


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


def test_task_success_rates_agree_with_the_task_list(sample):
    """easy_rate and hard_rate recomputed in Python, task by task, from the participants' scores and the
    seed's task list: a task not attempted earns 0, a task the list does not have counts for neither."""
    participants = sample.query("""
        select results.year, results.login, results.work_code, results.participant_code,
            results.task_scores, results.task_max, model.easy_rate, model.hard_rate
        from staging.stg_vpr_results as results
        inner join objectivity.obj_vpr_participants as model
            using (year, login, work_code, participant_code)
    """)
    tasks = sample.query("select work_code, year_from, year_to, task_order, difficulty from rules.vpr_tasks")
    difficulty = {
        (row.work_code, year, row.task_order): row.difficulty == "базовый"
        for row in tasks.itertuples()
        for year in range(row.year_from, row.year_to + 1)
    }
    checked = 0
    for row in participants.itertuples():
        points = {True: [0.0, 0.0], False: [0.0, 0.0]}
        # .tolist(): a list with a blank task arrives as a masked array, whose blanks become None
        for order, (score, maximum) in enumerate(zip(row.task_scores.tolist(), row.task_max.tolist()), start=1):
            easy = difficulty.get((row.work_code, row.year, order))
            if easy is not None:
                points[easy][0] += 0 if score is None else score
                points[easy][1] += maximum
        for easy, rate in ((True, row.easy_rate), (False, row.hard_rate)):
            earned, possible = points[easy]
            expected = earned / possible if possible else None
            assert (rate is None or rate != rate) if expected is None else rate == pytest.approx(expected), row
        checked += 1
    assert checked > 1000
