"""What Great Expectations is fed: frames aggregated in DuckDB, never participant rows or registry-sized lists."""

import duckdb

from pipelines.defs.publish.config import load_publication_config
from pipelines.defs.quality.checks import SUITE_SPECS, read_suite_inputs
from pipelines.defs.quality.gx_suites import GreatExpectations
from tests.quality.sample_run import copy_run

PARTICIPANT_COLUMNS = set(load_publication_config().forbidden_columns)


def suite(name: str):
    return next(spec for spec in SUITE_SPECS if spec.name == name)


def test_suites_read_aggregated_frames_without_participant_columns(sample):
    with duckdb.connect(str(sample.warehouse), read_only=True) as con:
        participants = con.execute("select count(*) from raw.vpr_results").fetchone()[0]
        forms = con.execute(
            "select count(*) from (select distinct year, login, work_code from raw.vpr_results)"
        ).fetchone()[0]
        for spec in SUITE_SPECS:
            frame, _ = read_suite_inputs(con, spec)
            assert not set(frame.columns) & PARTICIPANT_COLUMNS, spec.name
            assert len(frame) < participants, spec.name
        raw, _ = read_suite_inputs(con, suite("raw_vpr_results"))
    assert len(raw) == forms  # one row per school × year × work form


def test_no_suite_takes_the_registry_as_a_value_set(sample):
    """Great Expectations copies a value set into every expectation and result: the registry is joined in SQL."""
    with duckdb.connect(str(sample.warehouse), read_only=True) as con:
        schools = con.execute("select count(*) from raw.schools").fetchone()[0]
        for spec in SUITE_SPECS:
            _, parameters = read_suite_inputs(con, spec)
            assert all(len(values) < schools for values in parameters.values()), spec.name


def test_a_school_missing_from_the_registry_fails_the_raw_suite(sample, tmp_path):
    run = copy_run(sample, tmp_path)
    with duckdb.connect(str(run.warehouse)) as con:
        login = con.execute("select min(login) from raw.vpr_results").fetchone()[0]
        con.execute("delete from raw.schools where lower(trim(login)) = ?", [login])
        spec = suite("raw_vpr_results")
        frame, parameters = read_suite_inputs(con, spec)
    outcome = GreatExpectations(publish_dir=str(run.publish_dir)).validate(spec, frame, parameters)
    assert not outcome.success
    failed = {failure.column: failure for failure in outcome.failed}
    assert set(failed) == {"in_registry"}
    assert {row["login"] for row in failed["in_registry"].failing_rows} == {login}


def test_a_raw_suite_failure_names_the_file_row_and_column(sample, tmp_path):
    """A row that got past ingestion (a total that is not the sum of its tasks) is named where a person finds it."""
    run = copy_run(sample, tmp_path)
    with duckdb.connect(str(run.warehouse)) as con:
        file, row, total, tasks = con.execute(
            "select _source_file, _row_number, primary_score, coalesce(list_sum(task_scores), 0) from raw.vpr_results "
            "where not is_absent order by _source_file, _row_number limit 1"
        ).fetchone()
        con.execute(
            "update raw.vpr_results set primary_score = primary_score + 1 where _source_file = ? and _row_number = ?",
            [file, row],
        )
        spec = suite("raw_vpr_results")
        frame, parameters = read_suite_inputs(con, spec)
    outcome = GreatExpectations(publish_dir=str(run.publish_dir)).validate(spec, frame, parameters)
    failed = {failure.column: failure for failure in outcome.failed}
    assert "totals_not_sum_of_tasks" in failed
    [failing] = failed["totals_not_sum_of_tasks"].failing_rows
    assert failing["first_problem"] == (
        f"{file}, row {row}, column «Итого баллов»: {total + 1} differs from the sum of the task scores, {tasks}"
    )
