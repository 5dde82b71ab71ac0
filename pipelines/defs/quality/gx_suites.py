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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd

EXPECTATIONS_DIR = Path(__file__).resolve().parents[3] / "expectations"
DOCS_SITE = "local"
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
    row_id_columns: tuple[str, ...] = ()
    additional_deps: tuple[dg.AssetKey, ...] = ()
    parameter_queries: dict[str, str] = field(default_factory=dict)
    expectations: tuple[dict[str, Any], ...] = ()

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
            row_id_columns=tuple(meta.get("row_id_columns", ())),
            additional_deps=tuple(dg.AssetKey(key) for key in meta.get("additional_deps", ())),
            parameter_queries=meta.get("parameters", {}),
            expectations=tuple(suite["expectations"]),
        )


def load_suite_specs(folder: Path = EXPECTATIONS_DIR) -> list[SuiteSpec]:
    return [SuiteSpec.load(path) for path in sorted(folder.glob("*.json"))]


@dataclass(frozen=True)
class FailedExpectation:
    """One failing expectation: what it checks and which rows (or which observed value) failed."""

    expectation: str
    column: str | None
    condition: str | None
    unexpected_count: int | None
    observed_value: Any
    failing_rows: list[dict[str, Any]]

    def describe(self) -> str:
        target = f"{self.column}: " if self.column else ""
        where = f" [{self.condition}]" if self.condition else ""
        if self.unexpected_count is not None:
            return f"{target}{self.expectation}{where} — {self.unexpected_count} rows"
        return f"{target}{self.expectation}{where} — observed {self.observed_value}"


@dataclass(frozen=True)
class SuiteOutcome:
    success: bool
    evaluated: int
    failed: list[FailedExpectation]
    docs_url: str | None

    def failing_rows(self) -> pd.DataFrame:
        """Every failing row of every expectation, with the expectation that flagged it."""
        rows = [
            {**row, "expectation": failure.expectation, "condition": failure.condition}
            for failure in self.failed
            for row in failure.failing_rows
        ]
        return pd.DataFrame(rows)


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

        context = gx.get_context(mode="ephemeral", project_config=self._context_config())
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
            failed=[_failed(r, spec.row_id_columns) for r in validation.results if not r.success],
            docs_url=_docs_url(context, identifier),
        )

    def _context_config(self):
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
            "base_directory": str(self.docs_dir / ".results"),
        }
        config.data_docs_sites = {
            DOCS_SITE: {
                "class_name": "SiteBuilder",
                "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(self.docs_dir)},
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            }
        }
        return config


def _result_format(spec: SuiteSpec, frame: pd.DataFrame) -> dict[str, Any]:
    """COMPLETE results identify failing rows by the suite's id columns (only those the frame has)."""
    ids = [c for c in spec.row_id_columns if c in frame.columns]
    return {"result_format": "COMPLETE", "unexpected_index_column_names": ids} if ids else {"result_format": "SUMMARY"}


def _failed(result, row_id_columns: tuple[str, ...]) -> FailedExpectation:
    kwargs = result.expectation_config.kwargs
    details = result.result or {}
    rows = details.get("unexpected_index_list") or []
    rows = [_plain_row(row, row_id_columns) for row in rows if isinstance(row, dict)][:MAX_LISTED_ROWS]
    return FailedExpectation(
        expectation=result.expectation_config.type,
        column=kwargs.get("column"),
        condition=_condition_text(kwargs.get("row_condition")),
        unexpected_count=details.get("unexpected_count"),
        observed_value=_plain(details.get("observed_value")),
        failing_rows=rows,
    )


def _condition_text(condition: Any) -> str | None:
    """GX 1.x turns a pandas row condition into a pass-through filter object; keep its expression."""
    if isinstance(condition, dict):
        return condition.get("pass_through_filter") or str(condition)
    return condition


def _plain_row(row: dict[str, Any], row_id_columns: tuple[str, ...]) -> dict[str, Any]:
    """The row's id columns first, then the value that failed, as plain Python values."""
    ordered = [c for c in row_id_columns if c in row] + [c for c in row if c not in row_id_columns]
    return {column: _plain(row[column]) for column in ordered}


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def _docs_url(context, identifier) -> str | None:
    urls = context.get_docs_sites_urls(resource_identifier=identifier, site_name=DOCS_SITE)
    return urls[0]["site_url"] if urls else None
