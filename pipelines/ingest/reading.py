"""Which reader reads which source, and reading and checking landing files in a worker-safe way.

A worker process is given a chunk of whole files of one source: it reads them, joins their rows into one
frame and checks the frame against the source's contract, so the run's process only stages the chunks'
rows (`staged.StagedRows`).
"""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from pipelines.ingest import store
from pipelines.ingest.contracts import PASSPORT_SHARES, VPR_TASK_SCORES, contract, numbers, share_as_percent
from pipelines.ingest.readers import (
    UNREADABLE,
    ParsedFile,
    ReadError,
    read_gia_school_codes,
    read_login_aliases,
    read_objectivity_markers,
    read_risk_profiles,
    read_schools,
    read_shnor,
    read_social_passport,
)
from pipelines.ingest.validate import Validation, file_issue, validate
from pipelines.ingest.vpr_reader import read_vpr_workbook
from pipelines.ingest.vpr_reports import read_vpr_report

READERS: dict[str, Callable[[str, bytes], ParsedFile]] = {
    "schools": read_schools,
    "login_aliases": read_login_aliases,
    "fioko_shnor": read_shnor,
    "fioko_objectivity_markers": read_objectivity_markers,
    "fioko_risk_profiles": read_risk_profiles,
    "social_passport": read_social_passport,
    "vpr_results": read_vpr_workbook,
    "gia_school_codes": read_gia_school_codes,
    "vpr_report_counts": read_vpr_report,
}


def read_file(source: str, path: str, data: bytes) -> ParsedFile | ReadError:
    """Runs the source's reader; a read failure is returned, not raised, so worker processes can report it."""
    try:
        return READERS[source](path, data)
    except ReadError as error:
        return error


def read_path(job: tuple[str, str, str]) -> tuple[str, str, int, int, ParsedFile | ReadError]:
    """(file, sha256, size, mtime, what was read) for (source, file, absolute path): the bytes are read
    once, for both the fingerprint and the parse."""
    source, file, path = job
    try:
        stat = os.stat(path)
        data = Path(path).read_bytes()
    except OSError as error:
        return file, "", 0, 0, ReadError(UNREADABLE.id, f"could not be opened ({error.strerror})")
    return file, hashlib.sha256(data).hexdigest(), stat.st_size, stat.st_mtime_ns, read_file(source, file, data)


STAGED_KEY_CONTEXT = ["_source_file", "_row_number", "_sheet"]  # staged with each key: where its first row is


@dataclass(frozen=True)
class Chunk:
    """Whole files of one source to read and check together, and what their checks depend on."""

    source: str
    files: list[tuple[str, str]]  # (file as in the landing folder, absolute path), in file order
    logins: frozenset[str] | None  # the registry's logins, None before it is loaded
    salt: str | None  # of participant codes; passed in, as a worker may have started under another environment
    columns: list[tuple[str, str]]  # (name, type) of the raw table: the rows are handed back in its types
    row_level: bool  # the load leaves out failing rows of every file, not only of files of many schools


@dataclass
class CheckedFiles:
    """What reading and checking files gave: a worker's answer to the run's process, in Arrow tables, which
    pass between processes as buffers rather than as Python objects."""

    read: list[tuple[str, str, int, int]] = field(default_factory=list)  # (file, sha256, size, mtime), every file
    validation: Validation = field(default_factory=Validation)  # read errors, readers' warnings, contract failures
    row_level_files: set[str] = field(default_factory=set)  # a failing row of these is left out, not the file
    rows_per_file: Counter = field(default_factory=Counter)  # rows read, written or not
    rows: pa.Table | None = None  # the rows that may be written, as the raw table has them
    keys: pa.Table | None = None  # of each key the first row: the key, _source_file, _row_number and _sheet


def read_and_check(chunk: Chunk) -> CheckedFiles:
    """Reads the chunk's files and checks their rows, with their task cells, against the source's contract."""
    checked, parsed_files = CheckedFiles(), []
    for file, path in chunk.files:
        file, sha, size, mtime, parsed = read_path((chunk.source, file, path))
        checked.read.append((file, sha, size, mtime))
        if isinstance(parsed, ReadError):
            checked.validation.add_issue(file_issue(chunk.source, file, parsed.rule_id, parsed.message))
            continue
        parsed_files.append((file, sha, parsed))
        for issue in parsed.issues:
            checked.validation.add_issue(issue)
    checked.row_level_files = {f for f, *_ in checked.read} if chunk.row_level else set()
    checked.row_level_files |= {file for file, _, parsed in parsed_files if parsed.row_level}
    frame = joined(
        [
            (p.columns, {"_source_file": f, "_file_sha256": sha, "_headers": p.headers or {}})
            for f, sha, p in parsed_files
        ]
    )
    if frame.empty:
        return checked
    if "participant_code" in frame and chunk.salt:
        frame["participant_code"] = pseudonymised(frame["participant_code"], chunk.salt)
    if chunk.logins and "login" in frame:
        frame["_same_digits"] = proposed_aliases(frame["login"], chunk.logins)
    schema = contract(chunk.source, chunk.logins)
    checked.validation.add(validate(frame, schema, chunk.source))
    cells = joined([(p.cells, {"_source_file": f}) for f, _, p in parsed_files if p.cells is not None])
    checked.validation.add(validate(cells, VPR_TASK_SCORES, chunk.source))
    checked.rows_per_file.update(frame["_source_file"].value_counts().to_dict())
    keep = kept_rows(frame, checked.validation, checked.row_level_files)
    kept = frame if keep.all() else frame[keep]  # no copy in the usual case, every row kept
    if chunk.source == "social_passport":
        kept = shares_in_percent(kept)
    checked.rows = store.arrow_rows(kept, chunk.columns)
    key = schema.metadata["key"]
    if key:
        repeat = frame.duplicated(key)
        firsts = frame[~repeat] if repeat.any() else frame
        types = dict(chunk.columns)
        checked.keys = store.arrow_rows(firsts, [(c, types[c]) for c in [*key, *STAGED_KEY_CONTEXT]])
    return checked


def kept_rows(frame: pd.DataFrame, validation: Validation, row_level_files: set[str]) -> pd.Series:
    """Rows that may be written: of files without errors, or without their failing rows (row level: every
    file in row-level mode, and files of many schools, where one school's bad row must not hold back the rest)."""
    if frame.empty:
        return pd.Series(dtype=bool)
    failing = pd.MultiIndex.from_arrays([frame["_source_file"], frame["_row_number"]]).isin(validation.rejected_rows)
    row_level = frame["_source_file"].isin(row_level_files)
    bad_file = frame["_source_file"].isin([file for file, count in validation.errors.items() if count])
    kept_row_level = ~failing & ~frame["_source_file"].isin(validation.rejected_files)
    return pd.Series(kept_row_level, index=frame.index).where(row_level, ~bad_file)


def shares_in_percent(rows: pd.DataFrame) -> pd.DataFrame:
    """Share columns as percent: a fraction (0,28) agreeing with its count becomes 28; any other value
    is kept as typed (a share disagreeing with its count has a warning in ops.quarantine)."""
    rows = rows.copy()
    for column in PASSPORT_SHARES:
        typed = numbers(rows[column])
        rows[column] = share_as_percent(typed, rows[column.removesuffix("_pct")], rows["students_total"]).fillna(typed)
    return rows


def joined(parts: list[tuple[dict[str, list], dict[str, str]]]) -> pd.DataFrame:
    """One frame of many files' columns, each with constant columns (its file, its fingerprint)."""
    if not parts:
        return pd.DataFrame()
    counts = [len(columns["_row_number"]) for columns, _ in parts]
    frame = {}
    for name in parts[0][0]:
        values = [value for columns, _ in parts for value in columns[name]]
        # numpy builds an object column faster than pandas does from a list; lists (task scores) stay lists
        frame[name] = values if values and isinstance(values[0], list) else np.array(values, dtype=object)
    for name in parts[0][1]:
        frame[name] = np.repeat(np.array([constants[name] for _, constants in parts], dtype=object), counts)
    frame["_row_number"] = frame["_row_number"].astype(np.int64)
    return pd.DataFrame(frame)


def pseudonymised(codes: pd.Series, salt: str) -> pd.Series:
    """sha256(salt + code), first 16 hex digits: stable per salt, not reversible without it."""
    return codes.map(lambda code: None if code is None else hashlib.sha256((salt + code).encode()).hexdigest()[:16])


def proposed_aliases(logins: pd.Series, known: frozenset[str]) -> pd.Series:
    """For a login not in the registry, the registry login with the same digits (a changed login), if one."""
    by_digits = store.same_digits(known)
    unknown = logins[~logins.isin(known) & logins.notna()]
    proposals = unknown.map(lambda login: by_digits.get("".join(filter(str.isdigit, str(login)))))
    return proposals.reindex(logins.index)
