"""Write–audit–publish: a release is written beside the current one, then made current in one step.

    $PUBLISH_DIR/
      releases/<YYYYMMDDTHHMMSSZ>-<run>/   monitoring.duckdb, parquet/<mart>.parquet, monitoring.xlsx,
                                           excel/<municipality>.xlsx (at region and federal scale),
                                           data_docs/ (the checks' report, offline), README.txt,
                                           manifest.json (written last: a release without it is incomplete)
      current -> releases/<…>              swapped with os.replace of a new symlink (atomic on POSIX)

Analysts open files under ``current``. A release is never modified after it is written and its files
are read-only (0444), so an analyst who keeps a file open sees one complete release and never holds a
lock the pipeline needs: the next run writes a new directory and swaps the link. Old releases beyond
the configured number are removed; on POSIX an open file stays readable after its directory is removed.
"""

import datetime as dt
import json
import os
import shutil
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pipelines.common import sha256_of, sql_literal
from pipelines.defs.publish.config import PublicationConfig, PublishedMart
from pipelines.defs.publish.excel import Sheet, Workbooks, write_workbooks
from pipelines.defs.publish.readme import DATA_DOCS, README, readme_text

RELEASES = "releases"
CURRENT = "current"
MANIFEST = "manifest.json"
PUBLISHED_DB = "published"  # alias of the release's DuckDB file while it is written
READ_ONLY = stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH
WORKBOOK_TITLE = "Мониторинг ШНОР, ШНСУ и объективности результатов ВПР"


@dataclass(frozen=True)
class MartRelease:
    mart: PublishedMart
    rows: int
    suppressed_rows: int


def new_release_dir(publish_dir: Path, run_id: str, now: dt.datetime | None = None) -> Path:
    """``releases/<UTC time>-<run>``: names sort by time, so pruning keeps the newest."""
    now = now or dt.datetime.now(dt.UTC)
    return publish_dir / RELEASES / f"{now:%Y%m%dT%H%M%SZ}-{run_id[:8]}"


def published_select(mart: PublishedMart, config: PublicationConfig) -> str:
    """The mart as published: configured columns in order, small groups' cells emptied and flagged."""
    small = None
    if mart.suppression:
        small = f"coalesce({mart.suppression.count_column} < {mart.suppression.min_n}, false)"
    columns = [
        f"case when {small} then null else {column} end as {column}"
        if small and column in mart.suppression.columns
        else column
        for column in mart.columns
    ]
    if small:
        columns.append(f"{small} as {config.suppressed_flag_column}")
    where = f" where {mart.where}" if mart.where else ""
    order = f" order by {', '.join(mart.order_by)}" if mart.order_by else ""
    return f"select {', '.join(columns)} from {mart.relation}{where}{order}"


def headers(mart: PublishedMart, config: PublicationConfig) -> dict[str, str]:
    extra = {}
    if mart.suppression:
        extra[config.suppressed_flag_column] = config.suppressed_flag_header.format(min_n=mart.suppression.min_n)
    return {**mart.columns, **extra}


def _write_duckdb_tables(con, mart: PublishedMart, config: PublicationConfig, parquet_path: Path) -> MartRelease:
    table = f"{PUBLISHED_DB}.{mart.name}"
    con.execute(f"create table {table} as {published_select(mart, config)}")
    con.execute(f"comment on table {table} is {sql_literal(mart.title)}")
    for column, header in headers(mart, config).items():
        con.execute(f"comment on column {table}.{column} is {sql_literal(header)}")
    release = sql_literal(parquet_path.parent.parent.name)  # every file names its release (see published.py)
    con.execute(
        f"copy {table} to '{parquet_path.as_posix()}' "
        f"(format parquet, compression zstd, kv_metadata {{release: {release}}})"
    )
    rows = con.execute(f"select count(*) from {table}").fetchone()[0]
    suppressed = 0
    if mart.suppression:
        suppressed = con.execute(f"select count(*) from {table} where {config.suppressed_flag_column}").fetchone()[0]
    return MartRelease(mart, int(rows), int(suppressed))


def _suppression_rule(mart) -> str:
    if not mart.suppression:
        return ""
    rule = mart.suppression
    return f"{rule.count_column} < {rule.min_n}: {', '.join(rule.columns)}"


def _release_info(con, release_dir: Path, run_id: str, releases: list[MartRelease], config: PublicationConfig) -> None:
    """Tables describing the release inside the file itself: what, when, from which run, which columns."""
    info = pd.DataFrame(  # noqa: F841 - read by name in SQL below
        [
            {
                "release": release_dir.name,
                "run_id": run_id,
                "published_at": dt.datetime.now(dt.UTC).replace(tzinfo=None),
                "table_name": r.mart.name,
                "source_relation": r.mart.relation,
                "title": r.mart.title,
                "rows": r.rows,
                "suppressed_rows": r.suppressed_rows,
                "suppression_rule": _suppression_rule(r.mart),
            }
            for r in releases
        ]
    )
    columns = pd.DataFrame(  # noqa: F841 - read by name in SQL below
        [
            {"table_name": r.mart.name, "column_name": column, "header": header}
            for r in releases
            for column, header in headers(r.mart, config).items()
        ]
    )
    # DuckDB reads the two frames by their Python names (replacement scans).
    con.execute(f"create table {PUBLISHED_DB}.release_info as select * from info")
    con.execute(f"create table {PUBLISHED_DB}.column_headers as select * from columns")


def _sheet(con, release: MartRelease, config: PublicationConfig) -> Sheet:
    columns = con.execute(
        "select column_name, data_type from duckdb_columns() "
        "where database_name = ? and table_name = ? order by column_index",
        [PUBLISHED_DB, release.mart.name],
    ).fetchall()
    note = ""
    if release.mart.suppression:
        s = release.mart.suppression
        note = (
            f"Значения скрыты, когда «{release.mart.columns.get(s.count_column, s.count_column)}» меньше {s.min_n} "
            f"({release.suppressed_rows} строк): защита персональных данных."
        )
    return Sheet(
        name=release.mart.sheet,
        title=release.mart.title,
        headers=list(headers(release.mart, config).values()),
        table=f"{PUBLISHED_DB}.{release.mart.name}",
        columns=columns,
        rows=release.rows,
        freeze_columns=release.mart.freeze_columns,
        note=note,
        full_table=f"{config.parquet_folder}/{release.mart.name}.parquet",
        key=release.mart.name,
        highlights=release.mart.highlights,
        labels=config.workbook.labels,
        replacements=config.workbook.replacements,
        number_formats=config.workbook.number_formats,
    )


def _seal(
    release_dir: Path,
    run_id: str,
    releases: list[MartRelease],
    input_state: str | None = None,
    workbooks: Workbooks | None = None,
) -> None:
    """Files become read-only; the manifest, written last, lists them with their hashes, the input state
    the marts were built from (``pipelines.defs.publish.state``) and which workbook holds which territory."""
    files = sorted(p for p in release_dir.rglob("*") if p.is_file())
    for path in files:
        path.chmod(READ_ONLY)
    manifest = {
        "release": release_dir.name,
        "run_id": run_id,
        "published_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "input_state": input_state,
        "files": {
            p.relative_to(release_dir).as_posix(): {"bytes": p.stat().st_size, "sha256": sha256_of(p)} for p in files
        },
        "tables": {
            r.mart.name: {"source": r.mart.relation, "rows": r.rows, "suppressed_rows": r.suppressed_rows}
            for r in releases
        },
    }
    if workbooks is not None:
        manifest["workbooks"] = {
            "main": workbooks.main.relative_to(release_dir).as_posix(),
            "territories": {
                name: path.relative_to(release_dir).as_posix() for name, path in workbooks.territories.items()
            },
            "cells": workbooks.cells,
            "seconds": round(workbooks.seconds, 1),
        }
    path = release_dir / MANIFEST
    path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    path.chmod(READ_ONLY)


def write_release(
    con,
    release_dir: Path,
    config: PublicationConfig,
    run_id: str,
    input_state: str | None = None,
    write_docs: Callable[[Path], object] | None = None,
) -> list[MartRelease]:
    """Writes every configured mart into a new release directory, from a connection to the working database;
    ``write_docs`` writes the checks' Data Docs into the folder it is given; the README comes last.

    The directory is removed again if anything fails, so a release either is complete or does not exist.
    """
    parquet_dir = release_dir / config.parquet_folder
    parquet_dir.mkdir(parents=True)
    database = release_dir / config.duckdb_file
    try:
        con.execute(f"attach '{database.as_posix()}' as {PUBLISHED_DB}")
        try:
            releases = [
                _write_duckdb_tables(con, mart, config, parquet_dir / f"{mart.name}.parquet") for mart in config.marts
            ]
            _release_info(con, release_dir, run_id, releases, config)
            sheets = [_sheet(con, release, config) for release in releases]
            workbook = config.workbook
            workbooks = write_workbooks(
                con,
                release_dir,
                config.excel_file,
                sheets,
                WORKBOOK_TITLE,
                release_dir.name,
                split_column=workbook.split_column,
                split_above_rows=workbook.split_above_rows,
                folder=workbook.folder,
                in_memory_rows=workbook.in_memory_rows,
                workers=workbook.workers,
            )
        finally:
            con.execute(f"detach {PUBLISHED_DB}")
        if write_docs is not None:
            write_docs(release_dir / DATA_DOCS)
        (release_dir / README).write_text(readme_text(release_dir, config, MANIFEST), encoding="utf-8")
        _seal(release_dir, run_id, releases, input_state, workbooks)
    except BaseException:
        remove_release(release_dir)
        raise
    return releases


def activate(publish_dir: Path, release_dir: Path) -> Path:
    """Points ``current`` at the release: a new relative symlink renamed over the old one."""
    link = publish_dir / CURRENT
    staged = publish_dir / f".{CURRENT}-{release_dir.name}"
    staged.unlink(missing_ok=True)
    staged.symlink_to(release_dir.relative_to(publish_dir), target_is_directory=True)
    os.replace(staged, link)
    return link


def is_complete(release_dir: Path) -> bool:
    return (release_dir / MANIFEST).is_file()


def remove_release(release_dir: Path) -> None:
    """Files are read-only, but removing them needs only a writable directory."""
    shutil.rmtree(release_dir, ignore_errors=True)


def prune(publish_dir: Path, keep: int) -> list[str]:
    """Removes all but the newest ``keep`` complete releases, never the current one; returns what went.

    Incomplete releases (no manifest: a run killed or out of disk while writing) are removed too.
    """
    current = (publish_dir / CURRENT).resolve()
    if not (publish_dir / RELEASES).is_dir():
        return []
    releases = sorted((p for p in (publish_dir / RELEASES).iterdir() if p.is_dir()), key=lambda p: p.name)
    complete = [p for p in releases if is_complete(p)]
    kept = set(complete[-keep:] if keep > 0 else []) | {current}
    removed = [p for p in releases if p not in kept and p.resolve() != current]
    for path in removed:
        remove_release(path)
    return [p.name for p in removed]


@dataclass(frozen=True)
class Publication:
    release_dir: Path
    releases: list[MartRelease]
    removed: list[str]


def publish(
    con,
    publish_dir: Path,
    config: PublicationConfig,
    run_id: str,
    input_state: str | None = None,
    now: dt.datetime | None = None,
    write_docs: Callable[[Path], object] | None = None,
) -> Publication:
    """Writes a new release, makes it current and keeps the configured number of releases.

    Old releases are pruned *before* the new one is written, down to one fewer than
    ``releases_to_keep`` (never the current one): a disk that filled up with releases gets room back on the
    next run instead of failing every run until someone deletes releases by hand. A write that fails
    (a full disk included) removes its partial directory and leaves ``current`` where it was.
    """
    removed = prune(publish_dir, config.releases_to_keep - 1)
    release_dir = new_release_dir(publish_dir, run_id, now)
    releases = write_release(con, release_dir, config, run_id, input_state, write_docs)
    activate(publish_dir, release_dir)
    removed += prune(publish_dir, config.releases_to_keep)
    return Publication(release_dir, releases, removed)
