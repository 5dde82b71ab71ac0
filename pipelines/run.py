"""Runs the whole pipeline on the configured landing folder: `python -m pipelines.run [--force]`.

The registry, FIOKO lists and passports are loaded first (participant results are checked against the
registry), then each campaign found in the landing folder is ingested as its own partition, then the
rest (dbt models, checks, publication) runs once. Runs are recorded in the Dagster instance at
$DAGSTER_HOME with the label of the code location (``school_monitoring`` in workspace.yaml), so they show
on the job's Runs tab in the UI (`make dev`) like scheduled runs.

The terminal shows one line per stage and a summary in Russian (``pipelines/summary.py``); the Dagster
and dbt detail goes to a log file (``--verbose``: to the terminal too). Exit codes: 0 «ok», 3 «ok with
warnings» (a check warned or a file is quarantined), 1 «failed», 2 not started.

The marts and the publication are up to date, and the monitoring job is not run again, only when the
current release and the marts of the working database were built from exactly the inputs the monitoring
job would read now (``pipelines/defs/publish/state.py``): the versions of the loaded files, the review
file, the dbt project, the suites and the publication settings. A new working database, a rebuilt mart
or inputs that changed and changed back are rebuilt and published again.

Before anything runs (``pipelines/runs.py``): the run takes an exclusive lock (a second run at once is
refused), runs of this instance left STARTED by a killed process are marked failed and their pool slots
freed, the working database is checked once for another process holding it, the participant code salt
is checked against the one the stored codes were made with, and dbt folders of killed runs are removed.
"""

import argparse
import contextlib
import datetime as dt
import functools
import os
import select
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import dagster as dg
import duckdb

from pipelines.defs.publish.state import input_state, published_state_matches
from pipelines.runs import (
    RunRefused,
    clean_dbt_targets,
    lock_path,
    process_tags,
    recover_dead_runs,
    run_lock,
    warehouse_lock_problem,
)

DBT_TARGET = Path(__file__).resolve().parents[1] / "dbt_project" / "target"
# The label the UI filters a job's runs by: repository @ code location (workspace.yaml, [tool.dg.project]).
# In-process runs have no remote origin, so the label Dagster gives launched runs is set as their tag.
CODE_LOCATION = "school_monitoring"
REPOSITORY_LABEL_TAG = ".dagster/repository"
REPOSITORY_LABEL = f"__repository__@{CODE_LOCATION}"
PARTITION_TAG = "dagster/partition"
# Marks the runs of stage 1 (the registry, FIOKO lists, passports and reviews), which a later run's summary
# finds by it: the monitoring run after them leaves those assets out.
STAGE_TAG = "school_monitoring/stage"
REFERENCE_STAGE = "reference"


def run_tags() -> dict[str, str]:
    return {**process_tags(), REPOSITORY_LABEL_TAG: REPOSITORY_LABEL}


def is_up_to_date(warehouse: Path, publish_dir: Path | None, state: str) -> tuple[bool, str]:
    """Whether the current release and the working database's marts were built from ``state``."""
    from pipelines.defs.publish.config import load_publication_config

    if publish_dir is None:
        return False, "PUBLISH_DIR не задан"
    marts = load_publication_config().marts
    return published_state_matches(warehouse, publish_dir, state, [mart.relation for mart in marts])


@functools.cache
def definitions() -> dg.Definitions:
    """The code location's definitions, loaded only when a run starts: importing dbt and building the dbt
    assets from the manifest costs about 5 s, most of a re-run that finds nothing to do."""
    from pipelines.definitions import defs

    return defs()


def salt_problem(warehouse: Path) -> str | None:
    """The participant code salt check of the loader, once before any run (it records the salt too)."""
    from pipelines.ingest import store
    from pipelines.ingest.load import SALT_VARIABLE, salt_state_problem

    with duckdb.connect(str(warehouse)) as con:
        store.ensure_tables(con)
        return salt_state_problem(con, os.environ.get(SALT_VARIABLE) or None)


def run_pipeline(
    landing_dir: Path,
    warehouse: Path,
    force: bool = False,
    publish_dir: Path | None = None,
    say: Callable[[str], None] = print,
    instance: dg.DagsterInstance | None = None,
) -> bool:
    """Materialises every campaign's ingestion and then the rest; True when every run succeeded.

    Raises ``RunRefused`` when the run cannot start (another run, the working database held, the salt).
    ``say`` prints a progress line; ``instance`` is the Dagster instance of $DAGSTER_HOME unless given.
    """
    with run_lock(lock_path(warehouse)) as stale:
        if stale:
            say(stale)
        problem = warehouse_lock_problem(warehouse)
        if problem:
            raise RunRefused(problem)
        warehouse.parent.mkdir(parents=True, exist_ok=True)
        problem = salt_problem(warehouse)
        if problem:
            raise RunRefused(problem)
        instance = instance or dg.DagsterInstance.get()
        for line in [*recover_dead_runs(instance), *clean_dbt_targets(instance, DBT_TARGET)]:
            say(line)
        return _run_jobs(instance, landing_dir, warehouse, force, publish_dir, say)


def _outcome(result, started: float) -> str:
    failed = len(result.get_step_failure_events())
    return (
        f"{'готово' if result.success else 'ОШИБКА'} ({failed} шаг(ов) с ошибкой, {time.monotonic() - started:.0f} с)"
        if failed
        else f"готово ({time.monotonic() - started:.0f} с)"
    )


def _run_jobs(
    instance, landing_dir: Path, warehouse: Path, force: bool, publish_dir: Path | None, say: Callable[[str], None]
) -> bool:
    from pipelines.defs.ingest.partitions import register_campaigns
    from pipelines.ingest.campaigns import campaigns_in_landing

    tags = run_tags()
    stage = "1. реестр, списки ФИОКО, паспорта, решения экспертов"
    ok = True
    if force or files_changed(warehouse, landing_dir):
        from pipelines.defs.automation.jobs import REFERENCE_INGEST_SELECTION

        started = time.monotonic()
        reference = (
            definitions()
            .resolve_job_def("monitoring_job")
            .execute_in_process(
                instance=instance,
                asset_selection=list(REFERENCE_INGEST_SELECTION.resolve(definitions().resolve_asset_graph())),
                tags={**tags, STAGE_TAG: REFERENCE_STAGE},
                raise_on_error=False,
            )
        )
        say(f"{stage}: {_outcome(reference, started)}")
        ok = reference.success
    else:
        say(f"{stage}: {UNCHANGED}")
    reference_loaded = ok  # stage 1 loaded every reference file, or found each unchanged
    campaigns = campaigns_in_landing(landing_dir)
    register_campaigns(instance, campaigns)
    for number, campaign in enumerate(campaigns, 1):
        stage = f"2. кампания {campaign} ({number} из {len(campaigns)}), ВПР и ГИА"
        if not (force or files_changed(warehouse, landing_dir, campaign)):
            say(f"{stage}: {UNCHANGED}")
            continue
        started = time.monotonic()
        result = (
            definitions()
            .resolve_job_def("ingest_campaign_job")
            .execute_in_process(instance=instance, partition_key=campaign, tags=tags, raise_on_error=False)
        )
        say(f"{stage}: {_outcome(result, started)}")
        ok &= result.success
    with duckdb.connect(str(warehouse), read_only=True) as con:
        state = input_state(con, landing_dir)
    up_to_date, reason = is_up_to_date(warehouse, publish_dir, state)
    if not force and up_to_date:
        say(f"3. проверки, модели dbt, публикация: не нужны, {reason} (--force пересоберёт)")
        return ok
    say(f"3. проверки, модели dbt, публикация: выполняются ({'--force' if force else reason})…")
    started = time.monotonic()
    monitoring = definitions().resolve_job_def("monitoring_job")
    if reference_loaded:  # running stage 1's assets again would find nothing to load
        monitoring = without_reference_ingestion(monitoring)
    result = monitoring.execute_in_process(instance=instance, tags=tags, raise_on_error=False)
    say(f"3. проверки, модели dbt, публикация: {_outcome(result, started)}")
    return ok and result.success


def without_reference_ingestion(job: dg.JobDefinition) -> dg.JobDefinition:
    """The job without stage 1's assets and their checks; after a failed stage 1 the whole job runs instead,
    so that a reference asset failing again stops the build on it as in a scheduled run."""
    from pipelines.defs.automation.jobs import REFERENCE_INGEST_SELECTION

    graph = job.asset_layer.asset_graph
    reference = REFERENCE_INGEST_SELECTION.resolve(graph)
    return job.get_subset(
        asset_selection=set(graph.executable_asset_keys) - reference,
        asset_check_selection={key for key in graph.asset_check_keys if key.asset_key not in reference},
    )


UNCHANGED = "без изменений, все файлы уже прочитаны в этих версиях (--force прочитает заново)"


def files_changed(warehouse: Path, landing_dir: Path, campaign: str | None = None) -> bool:
    """Whether an ingestion stage would read a file or find one gone: the reference sources and the review file
    without ``campaign``, the campaign's ВПР and ГИА with it. An unchanged stage is not run at all, so a re-run
    with no new files costs the checks of file sizes and times, not a Dagster run per stage."""
    from pipelines.defs.quality.reviews import reviews_changed
    from pipelines.ingest.listing import one_listing
    from pipelines.ingest.load import plan_load
    from pipelines.ingest.sources import SOURCES

    names = [name for name, source in SOURCES.items() if source.partitioned == (campaign is not None)]
    with one_listing(), duckdb.connect(str(warehouse)) as con:
        if campaign is None and reviews_changed(con, landing_dir):
            return True
        return any(plan_load(name, landing_dir, con, campaign=campaign).changes for name in names)


@contextlib.contextmanager
def detail_to_log(log_path: Path, verbose: bool):
    """Sends everything written to this process's stdout and stderr (Dagster's logs, dbt's output, any
    subprocess) to ``log_path``, and to the terminal as well when ``verbose``. Yields a function that
    prints one line to the terminal (and the log)."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    terminal = os.dup(1)
    saved_err = os.dup(2)
    read_end, write_end = os.pipe()
    log = open(log_path, "ab")  # noqa: SIM115 - the pump thread writes to it until the finally block closes it

    restored = threading.Event()

    # A child process started during the run (multiprocessing's resource tracker) inherits the pipe as its
    # stdout and keeps it open until this process exits, so the end of the pipe never comes: the pump stops
    # once the descriptors are restored and the pipe has nothing left to read.
    def pump() -> None:
        while True:
            readable, _, _ = select.select([read_end], [], [], 0.05)
            if not readable:
                if restored.is_set():
                    return
                continue
            chunk = os.read(read_end, 65536)
            if not chunk:
                return
            log.write(chunk)
            log.flush()
            if verbose:
                os.write(terminal, chunk)

    thread = threading.Thread(target=pump, daemon=True)
    thread.start()
    os.dup2(write_end, 1)
    os.dup2(write_end, 2)
    os.close(write_end)
    lock = threading.Lock()

    def say(line: str) -> None:
        data = (line + "\n").encode("utf-8")
        with lock:
            log.write(b"== " + data)
            log.flush()
            os.write(terminal, data)

    try:
        yield say
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(terminal, 1)
        os.dup2(saved_err, 2)
        restored.set()
        thread.join(timeout=10)
        os.close(saved_err)
        os.close(terminal)
        os.close(read_end)
        log.close()


def default_log_path(warehouse: Path) -> Path:
    folder = Path(os.environ["RUN_LOG_DIR"]) if os.environ.get("RUN_LOG_DIR") else warehouse.parent.parent / "logs"
    return folder / f"run-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}.log"


def summarise(
    instance: dg.DagsterInstance,
    landing: Path,
    warehouse: Path,
    publish_dir: Path | None,
    since: dt.datetime,
    runs_ok: bool,
    published_before: str | None,
):
    """The summary of the run from the warehouse, the instance and the publication.

    The checks are the latest evaluations of the definitions' checks when this run loaded the definitions,
    and otherwise (nothing to do) of the checks the runs behind the working database's state planned."""
    from pipelines.defs.automation.alerts import checks_planned_by, failed_checks_since
    from pipelines.summary import build_summary

    if definitions.cache_info().currsize:
        check_keys = definitions().resolve_asset_graph().asset_check_keys
    else:
        check_keys = checks_planned_by(instance, state_runs(instance, warehouse, landing))
    failed = failed_checks_since(instance, check_keys, 0)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        summary = build_summary(con, landing, publish_dir, since, failed, runs_ok, published_before)
    summary.paths["Рабочая база"] = str(warehouse)
    return summary


def state_runs(instance, warehouse: Path, landing: Path) -> list[str]:
    """The runs the working database's state comes from: the one that published its marts, the latest of
    stage 1 and the latest ingestion of each campaign in the landing folder."""
    from pipelines.defs.publish.state import published_run_id
    from pipelines.ingest.campaigns import campaigns_in_landing

    with duckdb.connect(str(warehouse), read_only=True) as con:
        published = published_run_id(con)
    latest_ingestions = (
        instance.get_runs(dg.RunsFilter(job_name="ingest_campaign_job", tags={PARTITION_TAG: campaign}), limit=1)
        for campaign in campaigns_in_landing(landing)
    )
    reference = instance.get_runs(dg.RunsFilter(job_name="monitoring_job", tags={STAGE_TAG: REFERENCE_STAGE}), limit=1)
    return [
        *([published] if published else []),
        *(run.run_id for run in reference),
        *(runs[0].run_id for runs in latest_ingestions if runs),
    ]


def current_release(publish_dir: Path | None) -> str | None:
    current = publish_dir / "current" if publish_dir else None
    return current.resolve().name if current is not None and current.exists() else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.run", description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="rebuild the marts and publish even if nothing changed")
    parser.add_argument("--verbose", action="store_true", help="show the Dagster and dbt detail on the terminal too")
    parser.add_argument("--log", type=Path, help="the log file (default: <data>/logs/run-<time>.log)")
    args = parser.parse_args(argv)
    # Dagster captures the process's output while steps run; a line still buffered then would land in a
    # step's log instead of the terminal.
    sys.stdout.reconfigure(line_buffering=True)
    from pipelines.summary import EXIT_CODES, NOT_STARTED, render

    warehouse = Path(os.environ["WAREHOUSE_PATH"])
    warehouse.parent.mkdir(parents=True, exist_ok=True)  # a WAREHOUSE_PATH of one's own works on the first run
    publish_dir = Path(os.environ["PUBLISH_DIR"]) if os.environ.get("PUBLISH_DIR") else None
    landing = Path(os.environ["LANDING_DIR"])
    log_path = args.log or default_log_path(warehouse)
    since = dt.datetime.now(dt.UTC).replace(tzinfo=None)  # ops.loaded_files keeps UTC without a zone
    published_before = current_release(publish_dir)
    print(f"Запуск мониторинга: папка приёма {landing}")
    try:
        with detail_to_log(log_path, args.verbose) as say:
            instance = dg.DagsterInstance.get()  # opening the instance's storage costs about a second
            ok = run_pipeline(landing, warehouse, args.force, publish_dir, say, instance)
            summary = summarise(instance, landing, warehouse, publish_dir, since, ok, published_before)
    except RunRefused as refused:
        print(f"Запуск не начат: {refused}", file=sys.stderr)
        print(f"Статус: {NOT_STARTED} (не запущен), код выхода {EXIT_CODES[NOT_STARTED]}", file=sys.stderr)
        return EXIT_CODES[NOT_STARTED]
    for line in render(summary, log_path):
        print(line)
    return summary.exit_code


if __name__ == "__main__":
    sys.exit(main())
