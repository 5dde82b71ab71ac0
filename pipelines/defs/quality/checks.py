"""Great Expectations suites as Dagster asset checks, one check per file in ``expectations/``.

Data-quality suites are blocking with severity ERROR: when one fails, Dagster does not materialise the
assets downstream of the checked table in that run, so nothing new is published. Objectivity suites are
not blocking (severity WARN): they fail while flagged schools await review and list those schools in the
check metadata, where the alert sensor finds them.

Every check reads the working database, so it runs in the pool of the single DuckDB writer.
"""

import dagster as dg
import pandas as pd
from dagster_duckdb import DuckDBResource

from pipelines.defs.dbt.project import DBT_PROJECT_DIR
from pipelines.defs.quality.gx_suites import GreatExpectations, SuiteOutcome, SuiteSpec, load_suite_specs

WRITER_POOL = "duckdb_writer"
SEEDS_DIR = DBT_PROJECT_DIR / "seeds"
# Metadata key the alert sensor reads the schools of a failed check from.
SCHOOLS_METADATA_KEY = "schools"
MAX_LISTED_SCHOOLS = 100


def _sql(text: str) -> str:
    """Suites read rule seeds straight from their CSV files, so they can run before dbt has built them."""
    return text.replace("{seeds}", SEEDS_DIR.as_posix())


def read_suite_inputs(con, spec: SuiteSpec) -> tuple[pd.DataFrame, dict[str, list]]:
    """The frame a suite validates and the values of its ``$PARAMETER``s, read from the warehouse."""
    frame = con.execute(_sql(spec.query)).df()
    parameters = {
        name: [row[0] for row in con.execute(_sql(query)).fetchall()]
        for name, query in spec.parameter_queries.items()
    }
    return frame, parameters


def check_metadata(frame: pd.DataFrame, outcome: SuiteOutcome) -> dict[str, dg.MetadataValue]:
    failing = outcome.failing_rows()
    metadata = {
        "rows validated": dg.MetadataValue.int(len(frame)),
        "expectations evaluated": dg.MetadataValue.int(outcome.evaluated),
        "expectations failed": dg.MetadataValue.int(len(outcome.failed)),
    }
    if outcome.docs_url:
        metadata["data docs"] = dg.MetadataValue.url(outcome.docs_url)
    if outcome.failed:
        metadata["failed expectations"] = dg.MetadataValue.md(
            "\n".join(f"- {failure.describe()}" for failure in outcome.failed)
        )
    if len(failing):
        metadata["failing rows"] = dg.MetadataValue.md(failing.to_markdown(index=False))
    schools = failing_schools(failing)
    if schools:
        metadata[SCHOOLS_METADATA_KEY] = dg.MetadataValue.text(", ".join(schools[:MAX_LISTED_SCHOOLS]))
    return metadata


def summary(outcome: SuiteOutcome) -> str:
    if outcome.success:
        return f"all {outcome.evaluated} expectations met"
    failed = "; ".join(failure.describe() for failure in outcome.failed)
    return f"{len(outcome.failed)} of {outcome.evaluated} expectations failed: {failed}"


def failing_schools(failing: pd.DataFrame) -> list[str]:
    """``login (year)`` of every school among the failing rows, for people reading an alert."""
    if failing.empty or "login" not in failing.columns:
        return []
    keys = failing[[c for c in ("login", "year") if c in failing.columns]].drop_duplicates()
    keys = keys.sort_values(list(keys.columns))
    if "year" not in keys.columns:
        return keys["login"].astype(str).tolist()
    return [f"{login} ({year})" for login, year in keys.itertuples(index=False)]


def build_suite_check(spec: SuiteSpec) -> dg.AssetChecksDefinition:
    """An asset check that validates the suite's frame and reports what failed and where."""
    severity = dg.AssetCheckSeverity.ERROR if spec.blocking else dg.AssetCheckSeverity.WARN

    @dg.asset_check(
        asset=spec.asset_key,
        name=spec.name,
        description=spec.description,
        blocking=spec.blocking,
        additional_deps=spec.additional_deps,
        pool=WRITER_POOL,
    )
    def _check(duckdb: DuckDBResource, great_expectations: GreatExpectations) -> dg.AssetCheckResult:
        with duckdb.get_connection() as con:
            frame, parameters = read_suite_inputs(con, spec)
        outcome = great_expectations.validate(spec, frame, parameters)
        return dg.AssetCheckResult(
            passed=outcome.success,
            severity=severity,
            description=summary(outcome),
            metadata=check_metadata(frame, outcome),
        )

    return _check


SUITE_SPECS = load_suite_specs()
SUITE_CHECKS = [build_suite_check(spec) for spec in SUITE_SPECS]


def check_keys_on(asset_keys: list[dg.AssetKey]) -> list[dg.AssetCheckKey]:
    """Keys of the suite checks on the given assets (the jobs place them by the asset they check)."""
    return [dg.AssetCheckKey(spec.asset_key, spec.name) for spec in SUITE_SPECS if spec.asset_key in asset_keys]


@dg.definitions
def quality_checks() -> dg.Definitions:
    return dg.Definitions(
        asset_checks=SUITE_CHECKS,
        resources={"great_expectations": GreatExpectations(publish_dir=dg.EnvVar("PUBLISH_DIR"))},
    )
