"""Runs the committed Great Expectations suites (``expectations/*.json``) on pandas DataFrames.

Great Expectations 1.x has no DuckDB datasource, so every suite validates a DataFrame that a check reads
from the working database. A suite file is self-describing: besides its expectations, its ``meta.dagster``
block says which asset it checks, the SQL that reads the frame (aggregated in SQL for big tables), the
queries that fill its ``$PARAMETER`` values, whether it is blocking and which columns identify a failing
row. Adding a check is adding a file. A ``$PARAMETER`` is for a short list: Great Expectations copies a
value set into every expectation configuration and result, so membership in a long list (the school
registry) is joined in the suite's SQL instead.

The context is ephemeral (nothing is configured on disk, nothing goes to the network); only validation
results and the Data Docs site are written, into the local docs folder, so the site keeps its history.
Great Expectations is imported lazily: importing it takes seconds and the code location must load fast.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd

from pipelines.data_docs import DocsEntry, latest_results, make_offline, relative_html, result_summary

EXPECTATIONS_DIR = Path(__file__).resolve().parents[3] / "expectations"
DOCS_SITE = "local"
DOCS_TITLE = "Проверки качества данных (Great Expectations)"
# Rows of a failing expectation listed in check metadata; the full list is in Data Docs.
MAX_LISTED_ROWS = 50


@dataclass(frozen=True)
class SuiteSpec:
    """A suite file and how Dagster runs it."""

    name: str
    asset_key: dg.AssetKey
    query: str
    blocking: bool
    description: str
    title: str = ""
    column_titles: dict[str, str] = field(default_factory=dict)
    row_id_columns: tuple[str, ...] = ()
    additional_deps: tuple[dg.AssetKey, ...] = ()
    parameter_queries: dict[str, str] = field(default_factory=dict)
    expectations: tuple[dict[str, Any], ...] = ()

    @property
    def check_description(self) -> str:
        """What the Dagster check says of itself: the suite's title, then its description."""
        return f"{self.title}. {self.description}" if self.description else self.title

    def expectation_title(self, expectation_type: str, kwargs: dict[str, Any], meta: dict[str, Any]) -> str:
        """A Russian name of one expectation: its own ``meta.title``, else one made from its type."""
        return meta.get("title") or expectation_text(expectation_type, kwargs, self.column_titles)

    @classmethod
    def load(cls, path: Path) -> SuiteSpec:
        suite = json.loads(path.read_text(encoding="utf-8"))
        meta = suite["meta"]["dagster"]
        return cls(
            name=suite["name"],
            asset_key=dg.AssetKey(meta["asset_key"]),
            query=meta["query"],
            blocking=meta["blocking"],
            description=suite["meta"].get("description", ""),
            title=suite["meta"].get("title", suite["name"]),
            column_titles=suite["meta"].get("columns", {}),
            row_id_columns=tuple(meta.get("row_id_columns", ())),
            additional_deps=tuple(dg.AssetKey(key) for key in meta.get("additional_deps", ())),
            parameter_queries=meta.get("parameters", {}),
            expectations=tuple(suite["expectations"]),
        )


def load_suite_specs(folder: Path = EXPECTATIONS_DIR) -> list[SuiteSpec]:
    return [SuiteSpec.load(path) for path in sorted(folder.glob("*.json"))]


SUITE_SPECS = load_suite_specs()
# Metadata keys of a check's evaluation that the alerts and the run's summary read the schools and the report from.
SCHOOLS_METADATA_KEY = "школы"
DOCS_METADATA_KEY = "Data Docs"


@dataclass(frozen=True)
class FailedExpectation:
    """One failing expectation: what it checks and which rows (or which observed value) failed."""

    expectation: str
    title: str
    column: str | None
    unexpected_count: int | None
    observed_value: Any
    failing_rows: list[dict[str, Any]]

    def describe(self) -> str:
        if self.unexpected_count is not None:
            return f"{self.title} — не выполнено в строках: {self.unexpected_count}"
        return f"{self.title} — получено: {self.observed_value}"


@dataclass(frozen=True)
class SuiteOutcome:
    success: bool
    evaluated: int
    failed: list[FailedExpectation]
    docs_url: str | None

    def failing_rows(self) -> pd.DataFrame:
        """Every failing row of every expectation, with the expectation that flagged it."""
        rows = [{**row, "ожидание": failure.title} for failure in self.failed for row in failure.failing_rows]
        return pd.DataFrame(rows[:MAX_LISTED_ROWS])


class GreatExpectations(dg.ConfigurableResource):
    """Validates DataFrames against the committed suites; Data Docs go beside the publication folder.

    The docs folder is ``<PUBLISH_DIR>/../gx_docs``: local files, linked from check metadata as file://.
    """

    publish_dir: str

    @property
    def docs_dir(self) -> Path:
        return Path(self.publish_dir).resolve().parent / "gx_docs"

    def validate(self, spec: SuiteSpec, frame: pd.DataFrame, parameters: dict[str, Any]) -> SuiteOutcome:
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
        import great_expectations as gx

        context = gx.get_context(mode="ephemeral", project_config=_context_config(self.results_dir, self.docs_dir))
        batch = (
            context.data_sources.add_pandas("warehouse")
            .add_dataframe_asset(spec.name)
            .add_batch_definition_whole_dataframe("whole table")
        )
        suite = context.suites.add(gx.ExpectationSuite(name=spec.name, expectations=list(spec.expectations)))
        definition = context.validation_definitions.add(
            gx.ValidationDefinition(name=spec.name, data=batch, suite=suite)
        )
        checkpoint = context.checkpoints.add(
            gx.Checkpoint(
                name=spec.name,
                validation_definitions=[definition],
                actions=[gx.checkpoint.UpdateDataDocsAction(name="data docs", site_names=[DOCS_SITE])],
                result_format=_result_format(spec, frame),
            )
        )
        result = checkpoint.run(batch_parameters={"dataframe": frame}, expectation_parameters=parameters)
        identifier, validation = next(iter(result.run_results.items()))
        return SuiteOutcome(
            success=bool(validation.success),
            evaluated=len(validation.results),
            failed=[_failed(r, spec) for r in validation.results if not r.success],
            docs_url=_docs_url(context, identifier),
        )

    @property
    def results_dir(self) -> Path:
        return self.docs_dir / ".results"

    def build_offline_docs(self, target: Path, specs: list[SuiteSpec]) -> list[DocsEntry]:
        """A Data Docs site in ``target`` with the newest result of each suite, readable offline
        (``pipelines.data_docs``): every suite page, every result page, an index in Russian."""
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
        import great_expectations as gx

        latest = latest_results(self.results_dir)
        with tempfile.TemporaryDirectory() as scratch:
            results = Path(scratch)
            for path in latest.values():
                copy = results / path.relative_to(self.results_dir)
                copy.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, copy)
            context = gx.get_context(mode="ephemeral", project_config=_context_config(results, target))
            for spec in specs:
                context.suites.add(gx.ExpectationSuite(name=spec.name, expectations=list(spec.expectations)))
            context.build_data_docs(site_names=[DOCS_SITE])
            entries = []
            for spec in specs:
                suite_page = target / "expectations" / f"{spec.name}.html"
                entry = {
                    "suite": spec.name,
                    "description": spec.title,
                    "suite_page": f"expectations/{spec.name}.html" if suite_page.exists() else None,
                }
                if spec.name in latest:
                    success, evaluated, failed, run_time = result_summary(latest[spec.name])
                    copy = results / latest[spec.name].relative_to(self.results_dir)
                    page = relative_html(target, "validations", copy, results)
                    entries.append(
                        DocsEntry(
                            **entry,
                            success=success,
                            evaluated=evaluated,
                            failed=failed,
                            run_time=run_time,
                            validation_page=page,
                        )
                    )
                else:
                    entries.append(
                        DocsEntry(**entry, success=False, evaluated=0, failed=0, run_time="—", validation_page=None)
                    )
        make_offline(target, entries, DOCS_TITLE)
        return entries


def _context_config(results_dir: Path, site_dir: Path):
    """An in-memory context whose validation results and Data Docs site are folders on disk."""
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
    )
    # Results persist on disk so the Data Docs index lists every run, not only this process's.
    config.stores[config.validation_results_store_name]["store_backend"] = {
        "class_name": "TupleFilesystemStoreBackend",
        "base_directory": str(results_dir),
    }
    config.data_docs_sites = {
        DOCS_SITE: {
            "class_name": "SiteBuilder",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(site_dir)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        }
    }
    return config


def _result_format(spec: SuiteSpec, frame: pd.DataFrame) -> dict[str, Any]:
    """COMPLETE results identify failing rows by the suite's id columns (only those the frame has)."""
    ids = [c for c in spec.row_id_columns if c in frame.columns]
    return {"result_format": "COMPLETE", "unexpected_index_column_names": ids} if ids else {"result_format": "SUMMARY"}


def _failed(result, spec: SuiteSpec) -> FailedExpectation:
    config = result.expectation_config
    kwargs = config.kwargs
    details = result.result or {}
    rows = details.get("unexpected_index_list") or []
    rows = [_plain_row(row, spec.row_id_columns) for row in rows if isinstance(row, dict)][:MAX_LISTED_ROWS]
    return FailedExpectation(
        expectation=config.type,
        title=spec.expectation_title(config.type, kwargs, config.meta or {}),
        column=kwargs.get("column"),
        unexpected_count=details.get("unexpected_count"),
        observed_value=_plain(details.get("observed_value")),
        failing_rows=rows,
    )


def expectation_text(expectation_type: str, kwargs: dict[str, Any], column_titles: dict[str, str]) -> str:
    """Russian wording of the expectation types the suites use; another type is named as it is."""

    def name(column: str) -> str:
        return f"«{column_titles.get(column, column)}»"

    column = kwargs.get("column")
    low, high = kwargs.get("min_value"), kwargs.get("max_value")
    values = kwargs.get("value_set")
    values = (
        "список из правил"
        if isinstance(values, dict)
        else ", ".join("да" if v is True else "нет" if v is False else str(v) for v in values or [])
    )
    if expectation_type == "expect_table_row_count_to_be_between":
        return f"в таблице не меньше {low} строк" if high is None else f"в таблице от {low} до {high} строк"
    if expectation_type == "expect_table_columns_to_match_set":
        return "в таблице ровно ожидаемые столбцы"
    if expectation_type == "expect_compound_columns_to_be_unique":
        return "одна строка на " + " × ".join(name(c) for c in kwargs.get("column_list", []))
    if expectation_type == "expect_column_values_to_not_be_null":
        return f"{name(column)} заполнено"
    if expectation_type == "expect_column_values_to_be_in_set":
        return f"{name(column)}: только {values}"
    if expectation_type == "expect_column_values_to_not_be_in_set":
        return f"{name(column)}: нет значений {values}"
    if expectation_type == "expect_column_values_to_be_between":
        if low is not None and high is not None:
            return f"{name(column)} равно {low}" if low == high else f"{name(column)} от {low} до {high}"
        return f"{name(column)} не меньше {low}" if low is not None else f"{name(column)} не больше {high}"
    if expectation_type == "expect_column_pair_values_a_to_be_greater_than_b":
        relation = "не меньше" if kwargs.get("or_equal") else "больше"
        return f"{name(kwargs['column_A'])} {relation} {name(kwargs['column_B'])}"
    return expectation_type


def _plain_row(row: dict[str, Any], row_id_columns: tuple[str, ...]) -> dict[str, Any]:
    """The row's id columns first, then the value that failed, as plain Python values."""
    ordered = [c for c in row_id_columns if c in row] + [c for c in row if c not in row_id_columns]
    return {column: _plain(row[column]) for column in ordered}


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def _docs_url(context, identifier) -> str | None:
    urls = context.get_docs_sites_urls(resource_identifier=identifier, site_name=DOCS_SITE)
    return urls[0]["site_url"] if urls else None
