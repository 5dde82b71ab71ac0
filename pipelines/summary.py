"""The summary `make run` ends with, in Russian: what was read, what failed, which schools are flagged.

Every figure is read from where it is kept, not from the run's log: files from ``ops.loaded_files`` of the
working database, checks from the latest evaluation of each asset check in the Dagster instance, schools
from the current release (and the one before it, for the change). ``tests/automation/test_run_summary.py``
compares them with the warehouse.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

OK, WARNINGS, FAILED, NOT_STARTED = "ok", "ok with warnings", "failed", "not started"
EXIT_CODES = {OK: 0, FAILED: 1, NOT_STARTED: 2, WARNINGS: 3}
STATUS_RU = {OK: "успешно", WARNINGS: "успешно, есть предупреждения", FAILED: "ошибка", NOT_STARTED: "не запущен"}
SHOWN = 5  # schools or checks named per line
# The analysts' README first; excel/ holds the workbooks per municipality at region and federal scale.
RELEASE_ENTRIES = ("README.txt", "monitoring.xlsx", "excel", "monitoring.duckdb", "parquet", "data_docs/index.html")


@dataclass(frozen=True)
class SourceFiles:
    source: str
    title: str
    found: int
    loaded: int
    unchanged: int
    quarantined: int


@dataclass(frozen=True)
class Flags:
    year: int | None
    shnor: set[str]
    objectivity_pending: set[str]  # schools with objectivity flags awaiting review (на проверке), any year


@dataclass
class Summary:
    files: list[SourceFiles]
    failed_checks: list  # alerts.FailedCheck, latest evaluations that failed
    flags: Flags | None
    previous_flags: Flags | None
    release: str | None
    release_dir: Path | None
    published_now: bool
    runs_ok: bool
    paths: dict[str, str] = field(default_factory=dict)

    @property
    def status(self) -> str:
        if not self.runs_ok:
            return FAILED
        if self.failed_checks or any(f.quarantined for f in self.files):
            return WARNINGS
        return OK

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.status]


def source_files(con: duckdb.DuckDBPyConnection, landing: Path, since: dt.datetime) -> list[SourceFiles]:
    """Per source: files in the landing folder now, loaded by this run, unchanged since an earlier one, quarantined."""
    from pipelines.ingest.sources import SOURCES

    rows = con.execute("""select source, file, status, loaded_at from ops.loaded_files
                          where status <> 'replaced'""").fetchall()
    result = []
    for name, source in SOURCES.items():
        present = [
            (file, status, loaded_at) for s, file, status, loaded_at in rows if s == name and (landing / file).exists()
        ]
        quarantined = sum(status == "quarantined" for _, status, _ in present)
        loaded = sum(status == "loaded" and loaded_at >= since for _, status, loaded_at in present)
        unchanged = sum(status == "loaded" and loaded_at < since for _, status, loaded_at in present)
        if present:
            result.append(SourceFiles(name, source.title, len(present), loaded, unchanged, quarantined))
    return result


def release_flags(release_dir: Path) -> Flags:
    """ШНОР (computed) in the latest year of a release, and schools with objectivity flags awaiting review."""
    with duckdb.connect(str(release_dir / "monitoring.duckdb"), read_only=True) as con:
        [(year,)] = con.execute("select max(year) from school_flags").fetchall()
        shnor = {
            login
            for (login,) in con.execute(
                "select login from school_flags where year = ? and is_shnor_computed", [year]
            ).fetchall()
        }
        pending = {
            login
            for (login,) in con.execute(
                "select distinct login from objectivity_flags where status = 'на проверке'"
            ).fetchall()
        }
    return Flags(year, shnor, pending)


def releases(publish_dir: Path) -> list[Path]:
    """Complete releases, oldest first."""
    folder = publish_dir / "releases"
    return sorted(p for p in folder.iterdir() if (p / "manifest.json").exists()) if folder.exists() else []


def build_summary(
    con,
    landing: Path,
    publish_dir: Path | None,
    since: dt.datetime,
    failed_checks: list,
    runs_ok: bool,
    published_before: str | None,
) -> Summary:
    files = source_files(con, landing, since)
    release = release_dir = flags = previous = None
    if publish_dir is not None and (publish_dir / "current").exists():
        release_dir = (publish_dir / "current").resolve()
        release = json.loads((release_dir / "manifest.json").read_text(encoding="utf-8"))["release"]
        flags = release_flags(release_dir)
        earlier = [p for p in releases(publish_dir) if p.name < release_dir.name]
        if earlier:
            previous = release_flags(earlier[-1])
    return Summary(
        files,
        failed_checks,
        flags,
        previous,
        release,
        release_dir,
        published_now=release is not None and release != published_before,
        runs_ok=runs_ok,
    )


def _schools(logins: set[str]) -> str:
    shown = ", ".join(sorted(logins)[:SHOWN])
    return shown + (f" и ещё {len(logins) - SHOWN}" if len(logins) > SHOWN else "")


def _change(now: set[str], before: set[str] | None) -> str:
    if before is None:
        return "прежнего выпуска нет"
    added, removed = now - before, before - now
    if not added and not removed:
        return "без изменений с прошлого выпуска"
    parts = [
        f"+{len(added)}" + (f" ({_schools(added)})" if added else ""),
        f"−{len(removed)}" + (f" ({_schools(removed)})" if removed else ""),
    ]
    return "с прошлого выпуска: " + ", ".join(parts)


def render(summary: Summary, log_path: Path | None) -> list[str]:
    """The summary as lines (well under 60 for any number of sources, checks and schools)."""
    lines = ["", "Итог запуска", "", "Файлы (найдено / загружено / без изменений / в карантине):"]
    for f in summary.files:
        lines.append(f"  {f.title}: {f.found} / {f.loaded} / {f.unchanged} / {f.quarantined}")
    if not summary.files:
        lines.append("  в папке приёма нет файлов")
    errors = [c for c in summary.failed_checks if c.severity == "ERROR"]
    warnings = [c for c in summary.failed_checks if c.severity != "ERROR"]
    lines.append(f"Проверки не пройдены: ошибок {len(errors)}, предупреждений {len(warnings)}")
    for check in [*errors, *warnings][:8]:
        kind = "ошибка" if check.severity == "ERROR" else "предупреждение"
        lines.append(
            f"  {kind}: {check.asset} · {check.check}" + (f" — ОО: {', '.join(check.logins)}" if check.schools else "")
        )
    if len(summary.failed_checks) > 8:
        lines.append(f"  … и ещё {len(summary.failed_checks) - 8} (Dagster UI, make dev)")
    if summary.flags is not None:
        flags, before = summary.flags, summary.previous_flags
        lines.append("ОО с флагами:")
        lines.append(f"  ШНОР в {flags.year} году: {len(flags.shnor)}; {_change(flags.shnor, before and before.shnor)}")
        lines.append(
            f"  с признаками необъективности на проверке: {len(flags.objectivity_pending)}; "
            f"{_change(flags.objectivity_pending, before and before.objectivity_pending)}"
        )
        if flags.objectivity_pending:
            lines.append(f"    {_schools(flags.objectivity_pending)} — решение эксперта в reviews/reviews.csv")
    if summary.release:
        state = "опубликован в этом запуске" if summary.published_now else "прежний, данные не изменились"
        if not summary.runs_ok and not summary.published_now:
            state = "прежний: новый не опубликован из-за ошибок"
        lines.append(f"Выпуск {summary.release} ({state}):")
        for name in RELEASE_ENTRIES:  # what a release holds, where it holds it
            if (summary.release_dir / name).exists():
                lines.append(f"  {summary.release_dir / name}")
    else:
        lines.append("Выпуск: ещё не опубликован")
    for label, path in summary.paths.items():
        lines.append(f"{label}: {path}")
    if log_path is not None:
        lines.append(f"Подробный журнал Dagster и dbt: {log_path}")
    lines.append(f"Статус: {summary.status} ({STATUS_RU[summary.status]}), код выхода {summary.exit_code}")
    return lines
