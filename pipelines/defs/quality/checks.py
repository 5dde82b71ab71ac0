"""Great Expectations suites as Dagster asset checks, one check per file in ``expectations/``.

Data-quality suites are blocking with severity ERROR: when one fails, Dagster does not materialise the
assets downstream of the checked table in that run, so nothing new is published. Objectivity suites are
not blocking (severity WARN): they fail while flagged schools await review and list those schools in the
check metadata, where the alert sensor finds them.

Every check reads the working database, so it runs in the pool of the single DuckDB writer.
"""

import dagster as dg
import duckdb
import pandas as pd
from dagster_duckdb import DuckDBResource

from pipelines.common import SEEDS_DIR
from pipelines.defs.quality.gx_suites import (
    DOCS_METADATA_KEY,
    MAX_LISTED_ROWS,
    SCHOOLS_METADATA_KEY,
    SUITE_SPECS,
    GreatExpectations,
    SuiteOutcome,
    SuiteSpec,
)

WRITER_POOL = "duckdb_writer"
MAX_LISTED_SCHOOLS = 100


def _sql(text: str) -> str:
    """Suites read rule seeds straight from their CSV files, so they can run before dbt has built them."""
    return text.replace("{seeds}", SEEDS_DIR.as_posix())


def read_suite_inputs(con, spec: SuiteSpec) -> tuple[pd.DataFrame, dict[str, list]]:
    """The frame a suite validates and the values of its ``$PARAMETER``s, read from the warehouse."""
    frame = con.execute(_sql(spec.query)).df()
    parameters = {
        name: [row[0] for row in con.execute(_sql(query)).fetchall()] for name, query in spec.parameter_queries.items()
    }
    return frame, parameters


def check_metadata(
    frame: pd.DataFrame, outcome: SuiteOutcome, spec: SuiteSpec, names: dict[str, str]
) -> dict[str, dg.MetadataValue]:
    """Counts, the failed expectations in Russian, a bounded sample of failing rows (school-level rows
    only: every suite validates aggregated frames) and the schools they name."""
    failing = outcome.failing_rows()
    metadata = {
        "строк проверено": dg.MetadataValue.int(len(frame)),
        "ожиданий проверено": dg.MetadataValue.int(outcome.evaluated),
        "ожиданий не выполнено": dg.MetadataValue.int(len(outcome.failed)),
    }
    if outcome.docs_url:
        metadata[DOCS_METADATA_KEY] = dg.MetadataValue.url(outcome.docs_url)
    if outcome.failed:
        metadata["не выполнены"] = dg.MetadataValue.md(
            "\n".join(f"- {failure.describe()}" for failure in outcome.failed)
        )
    if len(failing):
        sample = failing.rename(columns=spec.column_titles)
        metadata[f"строки с ошибкой (до {MAX_LISTED_ROWS})"] = dg.MetadataValue.md(sample.to_markdown(index=False))
    schools = failing_schools(failing, names)
    if schools:
        metadata[SCHOOLS_METADATA_KEY] = dg.MetadataValue.text("\n".join(schools[:MAX_LISTED_SCHOOLS]))
    return metadata


def summary(outcome: SuiteOutcome) -> str:
    if outcome.success:
        return f"Все ожидания выполнены: {outcome.evaluated}"
    failed = "; ".join(failure.describe() for failure in outcome.failed)
    return f"Не выполнено ожиданий: {len(outcome.failed)} из {outcome.evaluated}. {failed}"


def school_names(con) -> dict[str, str]:
    """Login → the shorter of the two names of the registry (read before dbt builds anything)."""
    try:
        rows = con.execute(
            "select lower(trim(login)), case when length(coalesce(short_name, full_name)) "
            "<= length(coalesce(full_name, short_name)) then coalesce(short_name, full_name) else full_name end "
            "from raw.schools"
        ).fetchall()
    except duckdb.Error:  # no registry loaded yet: the schools are named by login only
        return {}
    return {login: name for login, name in rows if login and name}


def failing_schools(failing: pd.DataFrame, names: dict[str, str]) -> list[str]:
    """``login — name (year)`` of every school among the failing rows, for people reading an alert."""
    if failing.empty or "login" not in failing.columns:
        return []
    keys = failing[[c for c in ("login", "year") if c in failing.columns]].drop_duplicates()
    keys = keys.sort_values(list(keys.columns))
    lines = []
    for row in keys.itertuples(index=False):
        login = str(row[0])
        named = f"{login} — {names[login]}" if login in names else login
        lines.append(f"{named} ({row[1]})" if len(row) > 1 else named)
    return lines


def build_suite_check(spec: SuiteSpec) -> dg.AssetChecksDefinition:
    """An asset check that validates the suite's frame and reports what failed and where."""
    severity = dg.AssetCheckSeverity.ERROR if spec.blocking else dg.AssetCheckSeverity.WARN

    @dg.asset_check(
        asset=spec.asset_key,
        name=spec.name,
        description=spec.check_description,
        blocking=spec.blocking,
        additional_deps=spec.additional_deps,
        pool=WRITER_POOL,
    )
    def _check(duckdb: DuckDBResource, great_expectations: GreatExpectations) -> dg.AssetCheckResult:
        with duckdb.get_connection() as con:
            frame, parameters = read_suite_inputs(con, spec)
            names = school_names(con)
        outcome = great_expectations.validate(spec, frame, parameters)
        return dg.AssetCheckResult(
            passed=outcome.success,
            severity=severity,
            description=summary(outcome),
            metadata=check_metadata(frame, outcome, spec, names),
        )

    return _check


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
