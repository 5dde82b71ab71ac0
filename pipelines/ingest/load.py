"""Loads the landing folder into the raw tables: the one code path of the assets, the tests and the tools.

For each source: find its files; skip those already read in the same version (sha256); read the others;
validate them against the source's contract; then, in one transaction, replace the rows of the files
that pass and record every outcome and issue in `ops`.

A file that breaks its contract is quarantined: none of its rows are written, and an earlier good
version of it keeps its rows. With `row_level_quarantine` only the failing rows are left out. Landing
files are only ever read. A file that disappeared keeps its rows; the report lists it as missing.

    from pathlib import Path
    import duckdb
    from pipelines.ingest.load import load_landing

    reports = load_landing(Path("data/sample"), duckdb.connect("warehouse.duckdb"))
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import math
import multiprocessing
import os
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.common import sha256_of
from pipelines.ingest import store
from pipelines.ingest.contracts import (
    CONTRADICTS_FILE,
    EMPTIES_SOURCE,
    LOADED_ELSEWHERE,
    VPR_KEY,
    checked_in_chunks,
    key_rule_only,
    reading_contract,
    shown,
)
from pipelines.ingest.gia_csv import check_gia_csv
from pipelines.ingest.gia_lists import check_gia_list, looks_like_list
from pipelines.ingest.listing import landing_files
from pipelines.ingest.parquet import check_parquet
from pipelines.ingest.readers import ReadError
from pipelines.ingest.reading import CheckedFiles, Chunk, kept_rows, read_and_check
from pipelines.ingest.sources import ALIASES, REGISTRY, SOURCES, Source, discover, in_scope, unread_files
from pipelines.ingest.staged import StagedFile, StagedRows
from pipelines.ingest.validate import Issue, Validation, file_issue, location, validate
from pipelines.ingest.works import seeds_fingerprint

SALT_VARIABLE = "PARTICIPANT_CODE_SALT"
PARALLEL_FROM_BYTES = 16_000_000  # below it, starting worker processes costs more than they save
CHUNKS_PER_WORKER = 4  # several per worker, so that one slow chunk does not leave the other core idle
CHUNK_BYTES = 32_000_000  # of files a chunk holds at most: about 350,000 participant rows of region exports
KEYS_ACROSS_FILES = {"vpr_results": VPR_KEY}
# FIOKO lists: a row of another file with the same key must say the same (a repeat is counted once in dbt)
AGREE_ACROSS_FILES = {
    "fioko_objectivity_markers": (["year", "login", "marker_column"], ["marker", "marker_count"]),
    "fioko_shnor": (["year", "login"], ["level"]),
    "fioko_risk_profiles": (["year", "login", "factor"], ["level"]),
}  # participant rows must not count twice (ГИА: see gia_csv.py)


@dataclass
class SourceLoadReport:
    """What one load of a source did; the assets turn it into metadata."""

    source: str
    campaign: str | None
    files_found: list[str] = field(default_factory=list)
    files_loaded: list[str] = field(default_factory=list)  # read and written in this load
    files_skipped: list[str] = field(default_factory=list)  # unchanged since an earlier load read them
    files_quarantined: list[str] = field(default_factory=list)  # present and quarantined, now or earlier
    files_missing: list[str] = field(default_factory=list)  # recorded earlier, gone now; their rows are kept
    rows_written: int = 0
    rows_rejected: int = 0
    issues: list[Issue] = field(default_factory=list)  # found in this load (capped per file)
    notes: list[str] = field(default_factory=list)
    unread: list[tuple[str, str]] = field(default_factory=list)  # (file, reason): landing files no source reads
    seconds: float = 0.0


def load_landing(
    landing_dir: Path,
    con,
    *,
    campaign: str | None = None,
    row_level_quarantine: bool = False,
    sources: Iterable[str] | None = None,
    workers: int = 1,
) -> dict[str, SourceLoadReport]:
    """Loads every source (or `sources`), the registry first; `campaign` limits ВПР and ГИА to one campaign."""
    wanted = set(SOURCES) if sources is None else set(sources)
    unknown = wanted - set(SOURCES)
    if unknown:
        raise ValueError(f"unknown sources {sorted(unknown)}; expected some of {list(SOURCES)}")
    return {
        name: load_source(
            name, landing_dir, con, campaign=campaign, row_level_quarantine=row_level_quarantine, workers=workers
        )
        for name in SOURCES
        if name in wanted
    }


def load_source(
    name: str,
    landing_dir: Path,
    con,
    *,
    campaign: str | None = None,
    row_level_quarantine: bool = False,
    workers: int = 1,
) -> SourceLoadReport:
    """Loads the new and changed files of one source; see the module's docstring."""
    started = time.perf_counter()
    source, landing_dir = SOURCES[name], Path(landing_dir).resolve()
    loaded_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    report = SourceLoadReport(name, campaign if source.partitioned else None)
    store.ensure_tables(con)
    if name in PARTICIPANT_SOURCES:
        check_salt_state(con)
    plan = plan_load(name, landing_dir, con, campaign=campaign, row_level_quarantine=row_level_quarantine)
    logins = plan.logins
    if name != REGISTRY and logins is None:
        report.notes.append("the school registry is not loaded: logins were not checked against it")
    report.files_found, report.files_skipped, report.files_missing = plan.found, plan.skipped, plan.missing
    report.files_quarantined = list(plan.quarantined)
    if name == REGISTRY:  # loaded first, in every run: the one place that looks at the whole landing folder
        report.unread = unread_files(landing_dir)
        report.notes += [f"{file}: not read — {reason}" for file, reason in report.unread]
    registry, allowed_empty, to_read = plan.registry, plan.allowed_empty, plan.to_read

    batch = _Batch(loaded_at)
    try:
        _read_and_validate(batch, source, landing_dir, con, to_read, logins, row_level_quarantine, workers)
        _keep_rows_of_emptied_files(batch, con, name, allowed_empty)
        store.commit_load(
            con,
            name,
            batch.outcomes,
            batch.inserts(),
            batch.validation.issues,
            registry,
            row_level_quarantine,
            loaded_at,
        )
    finally:
        batch.drop(con)

    for outcome in batch.outcomes:
        (report.files_loaded if outcome.status == store.LOADED else report.files_quarantined).append(outcome.file)
        report.rows_written += outcome.rows
        report.rows_rejected += outcome.rows_rejected
    report.files_quarantined.sort()
    if name == "gia_results":
        report.notes += unmapped_school_codes(con, report.files_found)
    report.issues = batch.validation.issues
    report.seconds = time.perf_counter() - started
    return report


@dataclass
class LoadPlan:
    """What a load of one source would do with the landing folder as it is now, before reading any file."""

    found: list[str]
    to_read: list[str]  # new, changed, or quarantined and worth reading again
    skipped: list[str]  # unchanged since an earlier load read them
    quarantined: list[str]  # skipped, and quarantined when they were read
    missing: list[str]  # recorded earlier, gone now
    logins: frozenset[str] | None
    registry: str | None  # what a quarantined file's verdict depends on besides the file
    allowed_empty: list[str]

    @property
    def changes(self) -> bool:
        return bool(self.to_read or self.missing)


def plan_load(
    name: str, landing_dir: Path, con, *, campaign: str | None = None, row_level_quarantine: bool = False
) -> LoadPlan:
    """The files of a source a load would read now; `pipelines.run` skips a stage none of whose sources changed."""
    source, landing_dir = SOURCES[name], Path(landing_dir).resolve()
    store.ensure_tables(con)
    versions = store.file_versions(con, name)
    # An alias names a login of the registry itself, not another alias.
    logins = None if name == REGISTRY else store.registry_logins(con) if name == ALIASES else store.known_logins(con)
    registry = None if name == REGISTRY else store.registry_fingerprint(con)
    if name == "vpr_results":  # a file quarantined against the configured works is read again once they change
        registry = f"{registry},works:{seeds_fingerprint()}"
    allowed_empty = allowed_to_empty(landing_dir)
    if allowed_empty:  # a marker added since a file was quarantined for emptying its source reads it again
        registry = f"{registry},allowed_empty:{hashlib.sha256('|'.join(allowed_empty).encode()).hexdigest()[:16]}"
    found = discover(landing_dir, source, campaign)
    to_read, skipped, quarantined = [], [], []
    for file in found:
        latest = versions.get(file, [None])[0]
        if latest and _unchanged(landing_dir / file, latest, registry, row_level_quarantine):
            skipped.append(file)
            if latest.status == store.QUARANTINED:
                quarantined.append(file)
        else:
            to_read.append(file)
    present = set(found)
    missing = sorted(f for f in versions if f not in present and in_scope(source, f, campaign))
    return LoadPlan(found, to_read, skipped, quarantined, missing, logins, registry, allowed_empty)


# --------------------------------------------------------------------------------------------------
# A new version that would remove every row of a good one
#
# A header-only file (or one whose every row is a template row) that replaces a file whose earlier version
# loaded rows would silently wipe those rows from the source and from the next publication. It is
# quarantined instead, and the earlier rows stay. A person who means it (the school really has no rows any
# more) says so with an empty marker file beside it, `<file>.intentionally-empty` (docs/inputs.md).

ALLOW_EMPTY_SUFFIX = ".intentionally-empty"


def allowed_to_empty(landing_dir: Path) -> list[str]:
    """Landing files a person marked as intentionally empty (`<file>.intentionally-empty` beside them)."""
    return [
        marker.removesuffix(ALLOW_EMPTY_SUFFIX)
        for marker in landing_files(landing_dir)
        if marker.endswith(ALLOW_EMPTY_SUFFIX)
    ]


def _keep_rows_of_emptied_files(batch: _Batch, con, source: str, allowed: list[str]) -> None:
    """Quarantines a loaded version with no rows whose earlier version still has rows in the raw table."""
    empty = [o for o in batch.outcomes if o.status == store.LOADED and o.rows == 0 and o.file not in allowed]
    if not empty:
        return
    held = dict(
        con.execute(
            f"select _source_file, count(*) from raw.{source} where list_contains(?, _source_file) group by all",
            [[o.file for o in empty]],
        ).fetchall()
    )
    for index, outcome in enumerate(batch.outcomes):
        rows = held.get(outcome.file) if outcome in empty else None
        if not rows:
            continue
        message = (
            f"this version has no rows, and would remove the {rows} row(s) of its earlier version: it is "
            f"quarantined and those rows are kept. If the file is meant to be empty, put an empty file "
            f"«{outcome.file}{ALLOW_EMPTY_SUFFIX}» beside it (docs/inputs.md)"
        )
        batch.validation.add_issue(file_issue(source, outcome.file, EMPTIES_SOURCE.id, message))
        batch.outcomes[index] = dataclasses.replace(outcome, status=store.QUARANTINED, errors=outcome.errors + 1)
        check = batch.staged_by_file.pop(outcome.file, None)
        if check is not None:
            batch.staged.remove(check)
            check.drop(con)


def unmapped_school_codes(con, files: list[str]) -> list[str]:
    """РЦОИ codes of the loaded lists that the crosswalk does not map for their year, by file, code and lines.
    Their rows stay in raw.gia_results and join the results once registry/gia_school_codes.xlsx maps them."""
    rows = con.execute(
        """
        select r._source_file, r.year, r.school_code, list_sort(list(r._row_number)) as lines
        from raw.gia_results r
        where r.login is null and list_contains(?, r._source_file) and not exists (
            select 1 from raw.gia_school_codes c where c.year = r.year and (
                trim(c.school_code) = trim(r.school_code)
                or (r.exam_type in ('ОГЭ', 'ГВЭ') and trim(c.oge_code) = trim(r.school_code))
                or (r.exam_type = 'ЕГЭ' and trim(c.ege_code) = trim(r.school_code))))
        group by all order by all""",
        [files],
    ).fetchall()
    return [
        f"{file}: school code {code} is not in registry/gia_school_codes.xlsx for {year} (lines "
        f"{', '.join(map(str, lines[:20]))}{', …' if len(lines) > 20 else ''}); its {len(lines)} row(s) are kept "
        "aside until it is mapped"
        for file, year, code, lines in rows
    ]


# --------------------------------------------------------------------------------------------------
# The participant code salt: one salt per working database
#
# Participant codes are stored salted and hashed when the salt variable is set. Codes made with different
# salts (or none) cannot be joined, so a working database holds codes of one salt only. Its fingerprint
# (PBKDF2 of the salt, never the salt itself) is recorded in ops.participant_code_salt at the first load;
# a later load with another salt is refused while participant rows are stored, and says what to do.
# Re-hashing in place is impossible (the stored codes are already hashed), so the remedy is to restore the
# salt or to rebuild the working database, which re-reads every file with the new salt.

PARTICIPANT_SOURCES = ("vpr_results", "gia_results")
SALT_STATE_TABLE = "ops.participant_code_salt"


class SaltChanged(RuntimeError):
    """The salt differs from the one the stored participant codes were made with."""


def salt_fingerprint(salt: str | None) -> str:
    if not salt:
        return "none"
    return hashlib.pbkdf2_hmac("sha256", salt.encode(), b"participant-code-salt", 100_000)[:8].hex()


def salt_state_problem(con, salt: str | None) -> str | None:
    """Why a load with ``salt`` must be refused on this database, or None (then the salt is recorded)."""
    con.execute(
        f"create table if not exists {SALT_STATE_TABLE} "
        "(fingerprint varchar not null, recorded_at timestamp default current_timestamp)"
    )
    recorded = con.execute(f"select fingerprint from {SALT_STATE_TABLE}").fetchone()
    current = salt_fingerprint(salt)
    if recorded and recorded[0] == current:
        return None
    stored = con.execute(
        "select count(*) from ops.loaded_files where source in (?, ?) and status = 'loaded' and rows > 0",
        list(PARTICIPANT_SOURCES),
    ).fetchone()[0]
    if stored and (recorded or salt):  # a database from before this record: its codes are unsalted
        was = "без соли" if recorded is None or recorded[0] == "none" else "с другой солью"
        now = "без соли" if not salt else "с солью"
        database = con.execute(
            "select path from duckdb_databases() where database_name = current_database()"
        ).fetchone()[0]
        return (
            f"{SALT_VARIABLE} изменилась: коды участников в рабочей базе ({stored} файлов) записаны {was}, "
            f"а сейчас загрузка идёт {now}; коды разных солей не сопоставимы, загрузка отменена. "
            f"Верните прежнее значение {SALT_VARIABLE} или удалите рабочую базу {database} — "
            "следующий запуск прочитает все файлы заново с текущей солью."
        )
    con.execute(f"delete from {SALT_STATE_TABLE}")
    con.execute(f"insert into {SALT_STATE_TABLE} (fingerprint) values (?)", [current])
    return None


def check_salt_state(con) -> None:
    problem = salt_state_problem(con, participant_key())
    if problem:
        raise SaltChanged(problem)


def _unchanged(path: Path, latest: store.FileVersion, registry: str | None, row_level: bool) -> bool:
    """Whether the file is the version read last, with nothing since that would change the verdict."""
    stat = path.stat()
    same_stat = (stat.st_size, stat.st_mtime_ns) == (latest.size_bytes, latest.modified_ns)
    if not same_stat and sha256_of(path) != latest.sha256:
        return False
    if latest.status == store.LOADED:
        return True
    # A quarantined file is read again when the registry changed (its logins may be known now) or when
    # row-level quarantine was switched on (its good rows can be kept now).
    return latest.registry_sha256 == registry and (latest.row_level_quarantine or not row_level)


# --------------------------------------------------------------------------------------------------
# Reading


def checked_chunks(
    source: str,
    landing_dir: Path,
    files: list[str],
    logins: frozenset[str] | None,
    salt: str | None,
    columns: list[tuple[str, str]],
    row_level: bool = False,
    workers: int = 1,
) -> Iterator[CheckedFiles]:
    """Reads the files and checks their rows against the source's contract, chunk by chunk of whole files in
    file order; in up to `workers` processes (never more than the machine's cores) when they hold at least
    PARALLEL_FROM_BYTES.

    A chunk holds at most about CHUNK_BYTES of files, so the run's process holds one chunk's rows at a time
    whatever the number of files. Only the one-row-per-key rule spans chunks: the caller checks it across them
    (`StagedRows.repeated_across_chunks`). Sources whose rules compare rows of different files (the FIOKO
    lists, the crosswalk) are always checked in one piece.
    Measured on 2 cores (a campaign of 5,349 region forms): 12.0 s in one process, 9.9 s when only the reading
    was in two workers and the checks in the run's process, 8.0 s with both in the workers, 7.5 s with each chunk
    handed back in Arrow and staged as it arrives instead of joined at the end; starting the pool costs about 2 s.
    """
    jobs = [(file, str(landing_dir / file)) for file in files]
    if not jobs:
        return
    sizes = [_size(path) for _, path in jobs]
    workers = min(workers, os.cpu_count() or 1)
    if not checked_in_chunks(reading_contract(source)):  # the registry rule does not matter for which rules span files
        yield read_and_check(Chunk(source, jobs, logins, salt, columns, row_level))
        return
    parallel = workers >= 2 and len(jobs) >= 2 and sum(sizes) >= PARALLEL_FROM_BYTES
    count = max(workers * CHUNKS_PER_WORKER if parallel else 1, math.ceil(sum(sizes) / CHUNK_BYTES))
    chunks = [Chunk(source, part, logins, salt, columns, row_level) for part in _by_size(jobs, sizes, count)]
    if not parallel:
        yield from map(read_and_check, chunks)
        return
    # fork would copy the caller's threads and open database handles; the workers fork from a server process
    # that has imported the readers and pandera once, instead of each importing them (≈2 s) on start
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["pipelines.ingest.reading"])
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        yield from pool.map(read_and_check, chunks)


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:  # reported as unreadable when the chunk reads it
        return 0


def _by_size(jobs: list[tuple[str, str]], sizes: list[int], count: int) -> list[list[tuple[str, str]]]:
    """`count` consecutive runs of files of about equal bytes, so that the workers finish together."""
    share, parts, current, filled = sum(sizes) / count, [], [], 0
    for job, size in zip(jobs, sizes):
        current.append(job)
        filled += size
        if filled >= share * (len(parts) + 1):
            parts.append(current)
            current = []
    return parts + [current] if current else parts


# --------------------------------------------------------------------------------------------------
# Validating and deciding


@dataclass
class _Batch:
    loaded_at: dt.datetime
    outcomes: list[store.FileOutcome] = field(default_factory=list)
    rows: StagedRows | None = None  # the spreadsheets' checked rows to write
    staged: list[StagedFile] = field(default_factory=list)  # Parquet and CSV files, checked in DuckDB
    staged_by_file: dict[str, StagedFile] = field(default_factory=dict)
    validation: Validation = field(default_factory=Validation)

    def inserts(self) -> list[Callable[[object], None]]:
        """What the load's transaction inserts: the rows of the spreadsheets that loaded, and each staged file's."""
        loaded = [o.file for o in self.outcomes if o.status == store.LOADED]
        spreadsheets = [] if self.rows is None else [lambda con: self.rows.insert(con, loaded, self.loaded_at)]
        return spreadsheets + [check.insert for check in self.staged]

    def drop(self, con) -> None:
        for check in self.staged:
            check.drop(con)
        if self.rows is not None:
            self.rows.drop(con)


def _read_and_validate(
    batch: _Batch,
    source: Source,
    landing_dir: Path,
    con,
    files: list[str],
    logins: frozenset[str] | None,
    row_level: bool,
    workers: int,
) -> None:
    """Reads and checks the files into the batch: outcomes, issues and the rows to write."""
    salt = participant_key()
    staged_files = [f for f in files if f.endswith((".parquet", ".csv"))]
    spreadsheets = [f for f in files if f not in staged_files]
    columns = store.raw_columns(con, source.name)
    batch.rows = rows = StagedRows(source.name, columns, reading_contract(source.name).metadata["key"] or [])
    files_read, row_level_files, rows_per_file = [], set(), Counter()
    for part in checked_chunks(source.name, landing_dir, spreadsheets, logins, salt, columns, row_level, workers):
        batch.validation.add(part.validation)  # a file is in one chunk: its cap on issues holds
        files_read += part.read
        row_level_files |= part.row_level_files
        rows_per_file += part.rows_per_file
        rows.add(con, part.rows, part.keys)

    _leave_out(con, rows, _repeated_across_chunks(con, source.name, rows), batch.validation, row_level_files)
    if source.name in KEYS_ACROSS_FILES:
        found = _loaded_elsewhere(con, source.name, rows, KEYS_ACROSS_FILES[source.name])
        _leave_out(con, rows, found, batch.validation, row_level_files)
    if source.name in AGREE_ACROSS_FILES:
        found = _contradicting_files(con, source.name, rows, *AGREE_ACROSS_FILES[source.name])
        _leave_out(con, rows, found, batch.validation, row_level_files)

    written = rows.written_per_file(con)
    for file, sha, size, mtime in files_read:
        outcome = _outcome(file, sha, size, mtime, rows_per_file[file], written.get(file, 0), batch.validation)
        batch.outcomes.append(outcome)

    for file in staged_files:
        _check_staged_file(batch, con, source.name, file, landing_dir, logins, salt, row_level, batch.loaded_at)


def _repeated_across_chunks(con, source: str, rows: StagedRows) -> Validation:
    """A key that a file of another chunk already has: each chunk checked its own repeats."""
    repeated = rows.repeated_across_chunks(con)
    return validate(repeated, key_rule_only(reading_contract(source)), source) if not repeated.empty else Validation()


def _leave_out(con, rows: StagedRows, found: Validation, validation: Validation, row_level_files: set[str]) -> None:
    """Adds the issues found over the staged rows (their files were validated already: the per-file cap holds)
    and takes out of the staged rows those that may no longer be written."""
    if not (found.issues or found.errors):
        return
    validation.add_batch(found)
    staged = rows.rows_of(con, sorted(set(found.errors) | {issue.file for issue in found.issues}))
    rows.drop_rows(con, staged[~kept_rows(staged, validation, row_level_files)])


def participant_key() -> str | None:
    """The key of participant codes, read from the environment when a load runs (never at import):
    salts ВПР and CSV-layout codes when set, and is required to read a РЦОИ list carrying documents."""
    return os.environ.get(SALT_VARIABLE) or None


def _outcome(
    file: str, sha: str, size: int, mtime: int, rows: int, written: int, validation: Validation
) -> store.FileOutcome:
    errors, warnings = validation.errors[file], validation.warnings[file]
    # Nothing to write from a file with errors means quarantine, also in row-level mode (every row failed,
    # or the file could not be read at all).
    status = store.QUARANTINED if errors and not written else store.LOADED
    return store.FileOutcome(
        file,
        sha,
        status,
        written if status == store.LOADED else 0,
        rows - written if status == store.LOADED else 0,
        errors,
        warnings,
        size,
        mtime,
    )


def _check_staged_file(
    batch: _Batch, con, source: str, file: str, landing_dir: Path, logins, salt, row_level, loaded_at
) -> None:
    """A ВПР Parquet year or a ГИА CSV: checked while DuckDB holds it, never as a whole pandas frame."""
    path = landing_dir / file
    stat = path.stat()
    try:
        if file.endswith(".parquet"):
            check = check_parquet(con, file, str(path), sha256_of(path), logins, salt, loaded_at)
        elif looks_like_list(path):  # a РЦОИ «ведомость»: recognised by its header, whatever its name
            check = check_gia_list(con, file, path, salt, row_level, loaded_at)
        else:
            check = check_gia_csv(con, file, path, logins, salt, row_level, loaded_at)
    except ReadError as error:
        batch.validation.add_issue(file_issue(source, file, error.rule_id, error.message))
        batch.outcomes.append(
            store.FileOutcome(
                file,
                sha256_of(path),
                store.QUARANTINED,
                0,
                0,
                batch.validation.errors[file],
                0,
                stat.st_size,
                stat.st_mtime_ns,
            )
        )
        return
    batch.validation.add(check.validation)
    errors = check.validation.errors[file]
    written = check.rows - check.rejected_rows if (row_level or not errors) else 0
    status = store.QUARANTINED if errors and not written else store.LOADED
    rejected = check.rows - written if status == store.LOADED else 0
    batch.outcomes.append(
        store.FileOutcome(
            file,
            check.sha256,
            status,
            written,
            rejected,
            errors,
            check.validation.warnings[file],
            stat.st_size,
            stat.st_mtime_ns,
        )
    )
    if status == store.LOADED:
        batch.staged.append(check)
        batch.staged_by_file[file] = check
    else:
        check.drop(con)


def _contradicting_files(con, source: str, rows: StagedRows, key: list[str], compared: list[str]) -> Validation:
    """Rows whose key another file of the raw table has with other values (a second list contradicting the first)."""
    differs = " or ".join(f"k.{c} is distinct from r.{c}" for c in compared)
    shown_columns = [*(f"k.{c}" for c in key), *(f"k.{c}" for c in compared), *(f"r.{c}" for c in compared)]
    matches = rows.in_other_files(con, key, shown_columns, differs)
    validation = Validation()
    titles = {name: column.title or name for name, column in reading_contract(source).columns.items()}
    found: dict[tuple, dict] = {}
    for file, sheet, row_number, other_file, other_row, *values in matches:
        named = values[: len(key)]
        here, there = values[len(key) : len(key) + len(compared)], values[len(key) + len(compared) :]
        entry = found.setdefault((file, row_number), {"sheet": sheet, "other": (other_file, other_row), "diffs": {}})
        for c, a, b in zip(compared, here, there):
            if shown(a) != shown(b):  # one spreadsheet row is several long-form rows (markers): each column once
                title = str(named[-1]) if c == "marker" else titles[c]
                entry["diffs"][title] = f"«{title}» {shown(a)} here, {shown(b)} there"
        entry["key"] = ", ".join(f"{titles[c]} {shown(v)}" for c, v in zip(key, named) if c != "marker_column")
    for (file, row_number), entry in found.items():
        where = location(file, entry["sheet"], row_number, None)
        validation.add_issue(
            Issue(
                source,
                file,
                entry["sheet"],
                row_number,
                None,
                None,
                CONTRADICTS_FILE.id,
                CONTRADICTS_FILE.severity,
                f"{where}: {entry['key']} is already loaded from "
                f"{location(*entry['other'][:1], None, entry['other'][1], None)} "
                f"with other values ({'; '.join(entry['diffs'].values())}); the lists contradict each "
                "other: correct or remove one",
            )
        )
    return validation


def _loaded_elsewhere(con, source: str, rows: StagedRows, key: list[str]) -> Validation:
    """Rows whose key is already in the raw table from another file (e.g. a form and a Parquet file)."""
    matches = rows.in_other_files(con, key, [f"k.{c}" for c in key])
    validation = Validation()
    titles = {name: column.title or name for name, column in reading_contract(source).columns.items()}
    for file, sheet, row_number, other_file, other_row, *values in matches:
        context = {
            "_key_text": ", ".join(f"{titles[c]} {shown(v)}" for c, v in zip(key, values)),
            "_first_seen": location(other_file, None, other_row, None),
        }
        where = location(file, sheet, row_number, None)
        validation.add_issue(
            Issue(
                source,
                file,
                sheet,
                row_number,
                None,
                None,
                LOADED_ELSEWHERE.id,
                LOADED_ELSEWHERE.severity,
                f"{where}: {LOADED_ELSEWHERE.detail(None, context, None)}",
            )
        )
    return validation
