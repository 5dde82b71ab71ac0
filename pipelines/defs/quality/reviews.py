"""Reviewers' decisions on objectivity flags: ``$LANDING_DIR/reviews/reviews.csv`` → ``raw.reviews``.

A flag is a reason to look, not a verdict. Reviewers record what they decided per flag in one CSV file
(``login;year;work_code;sign;decision;reviewer;decided_at;comment``, UTF-8 or cp1251, as Excel saves
it); the next run carries the decisions into mart_objectivity_flags, where a dismissed flag stays
visible as «снято». The file is the whole decision log, so the table is replaced on every load.

A row that breaks the contract is left out and reported with its line and column; the good rows load.
A file that cannot be read at all leaves the previous decisions in place. Either way the check
``reviews_file_valid`` fails (WARN), so the alert sensor tells someone to fix the file.
"""

import csv
import datetime as dt
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pandas as pd
import pandera.pandas as pa
from dagster_duckdb import DuckDBResource

from pipelines.common import SEEDS_DIR, decode_utf8_or_cp1251, parse_datetime, sha256_of
from pipelines.defs.metadata import table_metadata
from pipelines.defs.resources import Folder

REVIEWS_FILE = "reviews/reviews.csv"
COLUMNS = ("login", "year", "work_code", "sign", "decision", "reviewer", "decided_at", "comment")
DECISIONS = ("подтверждено", "снято")
DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d", "%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%Y")
ASSET_KEY = dg.AssetKey(["raw", "reviews"])
CHECK_NAME = "reviews_file_valid"

CREATE_TABLE = """
create schema if not exists raw;
create table if not exists raw.reviews (
    login varchar not null, year integer not null, work_code varchar not null, sign varchar not null,
    decision varchar not null, reviewer varchar not null, decided_at timestamp not null, comment varchar,
    _source_file varchar not null, _sheet varchar, _row_number integer not null,
    _file_sha256 varchar not null, _loaded_at timestamp not null
)
"""


def known_signs() -> list[str]:
    """Sign codes from the thresholds seed: a decision on an unknown sign would never match a flag."""
    seed = pd.read_csv(SEEDS_DIR / "objectivity_thresholds.csv")
    return sorted(seed["sign"].unique())


def parse_timestamp(value: str) -> dt.datetime | None:
    return parse_datetime(value.strip(), DATE_FORMATS)


def reviews_contract() -> pa.DataFrameSchema:
    """One decision per row; every message names what the cell must hold."""

    def column(*checks: pa.Check, nullable: bool = False) -> pa.Column:
        return pa.Column(str, checks=list(checks), nullable=nullable)

    signs = known_signs()

    return pa.DataFrameSchema(
        {
            "login": column(pa.Check.str_matches(r"^[a-z]+\d+$", error="a school login such as sch860001")),
            "year": column(pa.Check.str_matches(r"^(19|20)\d\d$", error="a year such as 2024")),
            "work_code": column(
                pa.Check.str_matches(r"^((RU|MA)\d{1,2}|ALL)$", error="a ВПР work code such as MA5, or ALL")
            ),
            "sign": column(pa.Check.isin(signs, error=f"one of {', '.join(signs)}")),
            "decision": column(pa.Check.isin(DECISIONS, error=f"one of {', '.join(DECISIONS)}")),
            "reviewer": column(),
            "decided_at": column(
                pa.Check(
                    lambda s: s.map(lambda v: parse_timestamp(v) is not None),
                    error="a date such as 2024-11-15 or 15.11.2024 (time optional)",
                )
            ),
            "comment": column(nullable=True),
        },
        strict=True,
    )


@dataclass(frozen=True)
class ReviewIssue:
    line: int | None
    column: str | None
    value: str | None
    message: str

    def __str__(self) -> str:
        where = REVIEWS_FILE if self.line is None else f"{REVIEWS_FILE}, line {self.line}"
        if self.column:
            where += f", column «{self.column}»"
        value = "" if self.value is None else f"value «{self.value}»: "
        return f"{where}: {value}{self.message}"


class UnreadableFile(Exception):
    """The file as a whole cannot be read as the review log."""


def read_rows(data: bytes) -> pd.DataFrame:
    """The rows of the file as text, with the line numbers a person sees in a text editor."""
    reader = csv.reader(io.StringIO(decode_utf8_or_cp1251(data), newline=""), delimiter=";")
    header = [h.strip().lower() for h in next(reader, [])]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise UnreadableFile(f"the header line must name {';'.join(COLUMNS)}; missing: {', '.join(missing)}")
    rows = []
    for cells in reader:
        if not any(cell.strip() for cell in cells):
            continue
        values = dict(zip(header, (cell.strip() or None for cell in cells)))
        rows.append({**{c: values.get(c) for c in COLUMNS}, "_row_number": reader.line_num})
    frame = pd.DataFrame(rows, columns=[*COLUMNS, "_row_number"])
    frame["login"] = frame["login"].str.lower()
    frame["work_code"] = frame["work_code"].str.upper()
    return frame


def validate(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[ReviewIssue]]:
    """Rows that keep the contract, and an issue for every failing cell of the others."""
    try:
        reviews_contract().validate(frame.drop(columns="_row_number"), lazy=True)
        return frame, []
    except pa.errors.SchemaErrors as error:
        cases = error.failure_cases.dropna(subset=["index"])
    issues = [
        ReviewIssue(
            line=int(frame.at[int(case.index), "_row_number"]),
            column=case.column,
            value=None if pd.isna(case.failure_case) else str(case.failure_case),
            message="required" if case.check == "not_nullable" else f"must be {case.check}",
        )
        for case in cases.itertuples()
    ]
    bad = set(cases["index"].astype(int))
    return frame.drop(index=list(bad)), sorted(issues, key=lambda i: (i.line or 0, i.column or ""))


def reviews_changed(con, landing_root: Path) -> bool:
    """Whether the review file differs from the decisions in raw.reviews (added, edited or removed)."""
    con.execute(CREATE_TABLE)
    path = landing_root / REVIEWS_FILE
    loaded = {sha for (sha,) in con.execute("select distinct _file_sha256 from raw.reviews").fetchall()}
    if not path.is_file():
        return bool(loaded)
    return loaded != {sha256_of(path)}


def load_reviews(con, landing_root: Path) -> tuple[int, list[ReviewIssue]]:
    """Replaces raw.reviews with the valid rows of the review file; (rows loaded, issues)."""
    con.execute(CREATE_TABLE)
    path = landing_root / REVIEWS_FILE
    if not path.is_file():
        con.execute("delete from raw.reviews")
        return 0, []
    data = path.read_bytes()
    try:
        frame, issues = validate(read_rows(data))
    except (UnreadableFile, UnicodeDecodeError, csv.Error) as error:
        return -1, [ReviewIssue(None, None, None, f"file not loaded, previous decisions kept: {error}")]
    frame = frame.assign(
        year=frame["year"].astype(int),
        decided_at=frame["decided_at"].map(parse_timestamp),
        _source_file=REVIEWS_FILE,
        _sheet=None,
        _file_sha256=hashlib.sha256(data).hexdigest(),
        _loaded_at=dt.datetime.now(dt.UTC).replace(tzinfo=None),
    )
    con.execute("begin")
    con.execute("delete from raw.reviews")
    con.execute("insert into raw.reviews by name select * from frame")
    con.execute("commit")
    return len(frame), issues


@dg.asset(
    key=ASSET_KEY,
    group_name="ingest",
    kinds={"csv", "duckdb"},
    pool="duckdb_writer",
    check_specs=[
        dg.AssetCheckSpec(CHECK_NAME, asset=ASSET_KEY, description="Every row of the review file keeps the contract.")
    ],
)
def reviews(context: dg.AssetExecutionContext, duckdb: DuckDBResource, landing: Folder):
    """Reviewers' decisions on objectivity flags (подтверждено / снято) from reviews/reviews.csv."""
    with duckdb.get_connection() as con:
        loaded, issues = load_reviews(con, landing.root)
        metadata = table_metadata(con, "raw.reviews")
    for issue in issues:
        context.log.warning(str(issue))
    issues_md = "\n".join(f"- {issue}" for issue in issues) or "_none_"
    yield dg.MaterializeResult(
        metadata={**metadata, "file rejected": loaded < 0, "issues": dg.MetadataValue.md(issues_md)}
    )
    yield dg.AssetCheckResult(
        check_name=CHECK_NAME,
        passed=not issues,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"issues": dg.MetadataValue.md(issues_md), "issue count": len(issues)},
    )


@dg.definitions
def reviews_defs() -> dg.Definitions:
    return dg.Definitions(assets=[reviews])
