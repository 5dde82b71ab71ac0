"""What `make run` does before it starts anything, so that no run hangs or interleaves with another.

- **One run at a time** (``run_lock``): an exclusive ``flock`` on ``<working database>.run-lock`` for the
  whole run. The file holds the holder's PID, host and start time, so a second run is refused with a
  message naming it. The kernel drops the lock when its holder dies, even by ``kill -9``, so a lock left
  by a dead process never blocks; the next run says that it found one.
- **Dead runs are recovered** (``recover_dead_runs``): every run started by ``pipelines.run`` carries its
  process as tags (``monitoring/pid``, ``monitoring/host``, ``monitoring/process_start``). A run of this
  instance still STARTING/STARTED/CANCELING whose process is gone is marked failed and its pool slots
  (``duckdb_writer``) are freed; slots still held by runs that already ended are freed too. Dagster's own
  run monitoring needs the daemon and a run launcher that checks worker health, which in-process runs do
  not have; ``config/dagster.yaml`` enables it for ``make dev`` (slots of ended runs are freed there).
- **The working database is free** (``warehouse_lock_problem``): DuckDB allows one process per file (a
  read-only connection elsewhere blocks writing too). It is checked once, before any step, instead of
  letting every step retry for about 100 s and fail; the message names the holder's PID.
- **dbt artifacts of killed runs are removed** (``clean_dbt_targets``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import re
import shutil
import socket
from pathlib import Path

import duckdb

PID_TAG, HOST_TAG, START_TAG = "monitoring/pid", "monitoring/host", "monitoring/process_start"
UNFINISHED = ("STARTING", "STARTED", "CANCELING", "NOT_STARTED")
FINISHED = ("SUCCESS", "FAILURE", "CANCELED")


class RunRefused(RuntimeError):
    """The run cannot start; the message says why and what to do."""


# --------------------------------------------------------------------------------------------------
# Processes


def process_start(pid: int) -> str:
    """The start time of a process in clock ticks since boot (Linux), or "" where that is not known."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rsplit(")", 1)[1].split()[19]


def is_alive(pid: int, start: str = "") -> bool:
    """Whether the process runs, and is the same process (its PID was not reused) when ``start`` is known."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return not start or process_start(pid) in ("", start)


def process_tags() -> dict[str, str]:
    """Tags naming this process, added to every run ``pipelines.run`` starts."""
    pid = os.getpid()
    return {PID_TAG: str(pid), HOST_TAG: socket.gethostname(), START_TAG: process_start(pid)}


def _command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


# --------------------------------------------------------------------------------------------------
# One run at a time


def lock_path(warehouse: Path) -> Path:
    return Path(f"{warehouse}.run-lock")


@contextlib.contextmanager
def run_lock(path: Path):
    """Holds the exclusive run lock; yields a note about a stale lock found (or None).

    Raises ``RunRefused`` naming the holder when another live process holds it.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)  # not inherited by dbt or other children
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            raise RunRefused(
                f"уже идёт другой запуск конвейера: PID {holder.get('pid', '?')} на {holder.get('host', '?')}, "
                f"начат {holder.get('started', '?')} ({holder.get('command', '')}). Два запуска сразу опубликовали "
                "бы витрины, собранные друг другом; дождитесь его окончания и запустите снова "
                f"(файл блокировки {path})."
            ) from None
        previous = _holder(fd)
        note = None
        if previous.get("pid"):
            note = (
                f"найдена оставленная блокировка запуска PID {previous['pid']} (начат {previous.get('started', '?')}), "
                "его процесса уже нет; блокировка взята"
            )
        record = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
            "command": _command_line(os.getpid()),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(record).encode(), 0)
        try:
            yield note
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _holder(fd: int) -> dict:
    try:
        return json.loads(os.pread(fd, 4096, 0) or b"{}")
    except ValueError:
        return {}


# --------------------------------------------------------------------------------------------------
# Runs left behind by dead processes


def recover_dead_runs(instance) -> list[str]:
    """Marks failed the runs whose ``pipelines.run`` process is gone and frees pool slots; returns lines to print."""
    import dagster as dg

    lines = []
    host = socket.gethostname()
    statuses = [dg.DagsterRunStatus[name] for name in UNFINISHED]
    for record in instance.get_run_records(dg.RunsFilter(statuses=statuses)):
        run = record.dagster_run
        pid, start = run.tags.get(PID_TAG), run.tags.get(START_TAG, "")
        if not pid or run.tags.get(HOST_TAG) != host or is_alive(int(pid), start):
            continue
        message = (
            f"Процесс этого запуска (PID {pid} на {host}) завершился, не закончив его "
            "(убит или упал); запуск отмечен неудавшимся следующим запуском конвейера."
        )
        instance.report_run_failed(run, message=message)
        freed = _free_slots(instance, run.run_id)
        lines.append(
            f"восстановлен запуск {run.run_id[:8]} ({run.job_name}, {run.status.value}): его процесса {pid} "
            f"нет; отмечен неудавшимся{f', освобождено мест в пуле: {freed}' if freed else ''}"
        )
    storage = instance.event_log_storage
    if storage.supports_global_concurrency_limits:
        holders = storage.get_concurrency_run_ids()
        for run_id in sorted(holders):
            run = instance.get_run_by_id(run_id)
            if run is None or run.status.value in FINISHED:
                freed = _free_slots(instance, run_id)
                if freed:
                    lines.append(f"освобождено мест в пуле: {freed}, их держал закончившийся запуск {run_id[:8]}")
            elif PID_TAG not in run.tags:
                lines.append(
                    f"запуск {run_id[:8]} ({run.job_name}, {run.status.value}) держит или ждёт место в пуле и "
                    "начат не `make run`; если он на самом деле не идёт, отмените его в UI "
                    "(Runs → Terminate → force), иначе этот запуск будет его ждать"
                )
    return lines


def _free_slots(instance, run_id: str) -> int:
    """Frees the pool slots (and pending claims) of a run; returns how many slots it held."""
    storage = instance.event_log_storage
    held = sum(
        1
        for key in storage.get_concurrency_keys()
        for slot in storage.get_concurrency_info(key).claimed_slots
        if slot.run_id == run_id
    )
    storage.free_concurrency_slots_for_run(run_id)
    return held


# --------------------------------------------------------------------------------------------------
# The working database

LOCK_HOLDER = re.compile(r"PID (\d+)")


def warehouse_lock_problem(warehouse: Path) -> str | None:
    """None when this process can open the working database for writing; otherwise what to do."""
    if not warehouse.exists():
        return None
    try:
        duckdb.connect(str(warehouse)).close()
    except duckdb.IOException as error:
        text = str(error)
        if "lock" not in text.lower():
            raise
        match = LOCK_HOLDER.search(text)
        pid = int(match.group(1)) if match else None
        command = _command_line(pid) if pid else ""
        holder = f"PID {pid}" + (f" ({command})" if command else "") if pid else "другом процессе"
        return (
            f"рабочая база {warehouse} открыта в {holder}. DuckDB позволяет открыть файл только одному "
            "процессу, даже для чтения, поэтому каждый шаг завершился бы ошибкой. Закройте это подключение "
            f"(блокнот, DBeaver, оболочка duckdb{f'; или `kill {pid}`' if pid else ''}) и запустите снова. "
            f"Аналитики открывают опубликованную копию, $PUBLISH_DIR/current/monitoring.duckdb, а не рабочую "
            f"базу. DuckDB: {text.splitlines()[0]}"
        )
    return None


# --------------------------------------------------------------------------------------------------
# dbt artifacts

LEGACY_TARGET = re.compile(r"^monitoring_dbt_models-([0-9a-f]{7})-[0-9a-f]{7}$")


def clean_dbt_targets(instance, target_dir: Path) -> list[str]:
    """Removes the per-run dbt folders of runs that are not in progress (left by killed runs, or by
    versions that kept them); returns a line to print, if any."""
    import dagster as dg

    running = {
        r.dagster_run.run_id
        for r in instance.get_run_records(dg.RunsFilter(statuses=[dg.DagsterRunStatus[name] for name in UNFINISHED]))
    }
    # A folder of a run another instance knows (tests, a second DAGSTER_HOME) is left to that instance.
    folders = [
        p
        for p in (target_dir / "runs").glob("*")
        if p.is_dir() and p.name not in running and instance.get_run_by_id(p.name) is not None
    ]
    folders += [
        p
        for p in target_dir.glob("monitoring_dbt_models-*")
        if (m := LEGACY_TARGET.match(p.name)) and not any(r.startswith(m.group(1)) for r in running)
    ]
    if not folders:
        return []
    size = sum(f.stat().st_size for p in folders for f in p.rglob("*") if f.is_file())
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)
    return [f"удалено папок артефактов dbt, оставленных прежними запусками: {len(folders)} ({size / 1e6:.1f} МБ)"]
