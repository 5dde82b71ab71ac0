"""Runs a contract over the frame of one or more files and turns pandera's failure cases into issues.

An issue names the file, sheet, row and column header a person sees, the value and the rule, e.g.
`vpr/2023/sch860001_MA5.xlsx, sheet «Результаты», row 14, column «3»: value 4 exceeds the task maximum 2`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import pandera.pandas as pa

from pipelines.ingest.contracts import NUMBER, REQUIRED, RULES, WARNING, WHOLE_NUMBER, shown

ISSUES_PER_FILE = 200  # issues recorded per file and validation; the counts are kept in full
FIRST_RULES = (NUMBER.id, REQUIRED.id, WHOLE_NUMBER.id)  # on one cell, the most basic failure is the one to fix
PANDERA_TYPE_CHECKS = {"coerce_dtype": NUMBER.id, "not_nullable": REQUIRED.id}


@dataclass(frozen=True)
class Issue:
    """One failing cell, row or file, as recorded in ops.quarantine."""

    source: str
    file: str
    sheet: str | None
    row: int | None
    column: str | None
    value: str | None
    rule: str
    severity: str
    message: str


def location(file: str, sheet: str | None, row: int | None, column: str | None) -> str:
    """`file, sheet «…», row N, column «…»`; CSV rows are lines."""
    parts = [file]
    if sheet:
        parts.append(f"sheet «{sheet}»")
    if row is not None:
        parts.append(f"{'line' if file.endswith('.csv') else 'row'} {row}")
    if column:
        parts.append(f"column «{column}»")
    return ", ".join(parts)


def file_issue(source: str, file: str, rule_id: str, message: str) -> Issue:
    return Issue(source, file, None, None, None, None, rule_id, RULES[rule_id].severity, f"{file}: {message}")


@dataclass
class Validation:
    """Issues of a validation (capped per file), every row and file an error rejects, counts per file."""

    issues: list[Issue] = field(default_factory=list)
    rejected_rows: set[tuple[str, int]] = field(default_factory=set)
    rejected_files: set[str] = field(default_factory=set)  # a file-level error: no row of it can be kept
    errors: Counter = field(default_factory=Counter)
    warnings: Counter = field(default_factory=Counter)

    def add(self, other: Validation) -> None:
        self.issues += other.issues
        self.rejected_rows |= other.rejected_rows
        self.rejected_files |= other.rejected_files
        self.errors += other.errors
        self.warnings += other.warnings

    def add_batch(self, other: Validation) -> None:
        """Adds the validation of a later batch of the same files, keeping the per-file cap on recorded issues."""
        recorded = Counter((issue.file, issue.severity) for issue in self.issues)
        for issue in other.issues:
            if recorded[issue.file, issue.severity] < ISSUES_PER_FILE:
                self.issues.append(issue)
                recorded[issue.file, issue.severity] += 1
        self.rejected_rows |= other.rejected_rows
        self.rejected_files |= other.rejected_files
        self.errors += other.errors
        self.warnings += other.warnings

    def has_room(self, file: str, severity: str) -> bool:
        return (self.warnings if severity == WARNING else self.errors)[file] < ISSUES_PER_FILE

    def count(self, file: str, row: int | None, severity: str) -> None:
        """Counts an issue without recording it (over the per-file cap)."""
        (self.warnings if severity == WARNING else self.errors)[file] += 1
        if severity != WARNING:
            if row is None:
                self.rejected_files.add(file)
            else:
                self.rejected_rows.add((file, row))

    def add_issue(self, issue: Issue) -> None:
        if self.has_room(issue.file, issue.severity):
            self.issues.append(issue)
        self.count(issue.file, issue.row, issue.severity)


def _titles(schema: pa.DataFrameSchema) -> dict[str, str]:
    return {name: column.title or name for name, column in schema.columns.items()}


def _where(frame: pd.DataFrame, first: pd.Series) -> pd.Series:
    """For each row, where the row `first` points at is: `row 12`, or `other.xlsx, row 12` in another file."""
    file, row = frame["_source_file"], frame["_row_number"]
    first_file, first_row = file.loc[first].to_numpy(), row.loc[first].to_numpy()
    word = ["line" if f.endswith(".csv") else "row" for f in first_file]
    same = first_file == file.to_numpy()
    return pd.Series(
        [f"{w} {r}" if s else f"{f}, {w} {r}" for f, w, r, s in zip(first_file, word, first_row, same)],
        index=frame.index,
    )


def with_key_context(frame: pd.DataFrame, schema: pa.DataFrameSchema) -> pd.DataFrame:
    """Adds what the one-row-per-key messages quote: the key, and where its first row is."""
    key = schema.metadata["key"]
    if not key or not frame.duplicated(key).any():
        return frame
    titles = _titles(schema)
    named = [c for c in key if schema.columns[c].title] or key
    content = [
        c for c in frame.columns if c in schema.columns and not schema.columns[c].metadata["sql_type"].endswith("[]")
    ]
    numbered = frame.assign(_index=frame.index)
    frame = frame.copy()
    frame["_key_text"] = [
        ", ".join(f"{titles[c]} {shown(v)}" for c, v in zip(named, values))
        for values in frame[named].itertuples(index=False)
    ]
    frame["_first_seen"] = _where(frame, numbered.groupby(key, dropna=False, sort=False)["_index"].transform("first"))
    frame["_first_same"] = _where(
        frame, numbered.groupby(content, dropna=False, sort=False)["_index"].transform("first")
    )
    return frame


def _failures(error: pa.errors.SchemaErrors, schema: pa.DataFrameSchema) -> pd.DataFrame:
    """Failure cases as one row per failing cell (or row, for row rules): index, column, rule."""
    cases = error.failure_cases
    if cases["index"].isna().any():
        unplaced = cases[cases["index"].isna()][["column", "check", "failure_case"]].to_dict("records")
        raise RuntimeError(f"{schema.name}: failures without a row (a reader left out a contract's column): {unplaced}")
    check = cases["check"].astype(str)
    pandera_rule = check.str.extract(r"^(coerce_dtype|not_nullable|dtype)\b", expand=False)
    named = check.str.partition("@")
    wide = cases["schema_context"].eq("DataFrameSchema")
    column = named[2].where(named[2] != "", cases["column"].where(~wide))
    failures = pd.DataFrame(
        {
            "index": cases["index"].astype(int),
            "column": column.where(column.notna(), None),
            "rule": pandera_rule.map(PANDERA_TYPE_CHECKS).fillna(named[0]),
            "value": cases["failure_case"],
        }
    )
    failures = failures[pandera_rule.ne("dtype")]  # a dtype failure repeats the coercion failure of the same cells
    failures["first"] = ~failures["rule"].isin(FIRST_RULES)
    failures = failures.sort_values(["index", "first"], kind="stable")
    return failures.drop_duplicates(["index", "column"]).drop(columns="first")


def validate(frame: pd.DataFrame, schema: pa.DataFrameSchema, source: str) -> Validation:
    """Validates lazily, so every failing cell is found, and describes each failure."""
    result = Validation()
    if frame.empty:
        return result
    frame = with_key_context(frame, schema)
    try:
        schema.validate(frame, lazy=True)
        return result
    except pa.errors.SchemaErrors as error:
        failures = _failures(error, schema)
    titles, cell_column = _titles(schema), schema.metadata["cell_column"]
    failing = frame.loc[failures["index"].unique()]
    seen: set[tuple] = set()
    for index, column, rule_id, case_value in failures.sort_values("index", kind="stable").itertuples(index=False):
        row = failing.loc[index]
        file, rule = row["_source_file"], RULES[rule_id]
        value = case_value if rule_id in (NUMBER.id, REQUIRED.id) or column is None else row[column]
        in_file = row["_headers"] if "_headers" in row.index and isinstance(row["_headers"], dict) else {}
        if column is not None and (
            schema.columns[column].metadata.get("derived") or (column in in_file and in_file[column] is None)
        ):
            # A value taken from the file's name or place fails for the whole file: said once, for the file.
            if (file, None, column, rule_id) not in seen:
                seen.add((file, None, column, rule_id))
                result.add_issue(
                    Issue(
                        source,
                        file,
                        None,
                        None,
                        None,
                        _value_text(value),
                        rule_id,
                        rule.severity,
                        f"{file}: {rule.detail(value, row, column)} (from the file's name)",
                    )
                )
            continue
        header = (
            None
            if column is None
            else (row["_column"] if column == cell_column else in_file.get(column) or titles.get(column, column))
        )
        row_number = int(row["_row_number"])
        if (file, row_number, header, rule_id) in seen:  # long-form rows of one spreadsheet row fail together
            continue
        seen.add((file, row_number, header, rule_id))
        if not result.has_room(file, rule.severity):
            result.count(file, row_number, rule.severity)
            continue
        where = location(file, row["_sheet"], row_number, header)
        result.add_issue(
            Issue(
                source,
                file,
                row["_sheet"],
                row_number,
                header,
                None if column is None else _value_text(value),
                rule_id,
                rule.severity,
                f"{where}: {rule.detail(value, row, column)}",
            )
        )
    return result


def _value_text(value: Any) -> str | None:
    text = shown(value)
    return None if text == "empty" else text.strip("«»")
