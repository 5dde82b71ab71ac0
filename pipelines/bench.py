"""Benchmark: `make bench` (`python -m pipelines.bench`).

For each scale it generates the inputs once (cached under data/bench/<scale>/landing), runs the whole
pipeline as `make run` does (`python -m pipelines.run`) on a fresh warehouse and Dagster instance, and
reads how long each stage took from the run's step statistics. It then runs the pipeline again with no
new files, and measures three references:

- the practical limit: the same dbt models, compiled, executed as one DuckDB SQL script over the raw rows
  exported to Parquet;
- what an analyst would write: the core school × work indicators in pandas, over the same Parquet;
- the spreadsheets' decoding alone: every xlsx/xls file of the landing folder turned into Python rows by
  calamine, the decoder the readers use, on every core. The script skips it, the pipeline cannot, so the
  decoding plus the script is a floor under ingestion + dbt: a target below that floor cannot be met on
  the machine, whatever the orchestration.

Peak RSS is the resident set of the measured process and its children (os.wait4).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
BENCH_DIR = REPO_ROOT / "data" / "bench"
DBT_DIR = REPO_ROOT / "dbt_project"
SCALES = {
    "region": {"years": "2022-2024", "seed": 7},
    "federal": {"years": "2024", "seed": 7},
}
STAGE_OF_GROUP = {
    "ingest": "ingestion",
    "rules": "dbt",
    "staging": "dbt",
    "intermediate": "dbt",
    "marts": "dbt",
    "objectivity": "dbt",
    "quality": "checks",
    "publish": "publication",
}
# Targets per scale: seconds end to end, peak RSS, re-run as a share of a full run, and ingestion + dbt as a
# multiple of the same models run as one DuckDB script over the same raw rows.
TARGETS = {
    "region": {"end_to_end_s": 60, "rerun_share": 0.05, "pipeline_to_script": 1.3},
    "federal": {"end_to_end_s": 180, "peak_rss_gb": 4, "rerun_share": 0.05, "pipeline_to_script": 1.3},
}


# pipelines.run exits 3 for «ok with warnings»: the generated data plant cases that the warning checks flag.
ACCEPTED_EXIT_CODES = (0, 3)
# The generated РЦОИ lists carry (dummy) documents, which are read only with a participant-code key.
BENCH_PARTICIPANT_KEY = "benchmark-data-only-not-a-secret"


@dataclass
class Measured:
    seconds: float
    peak_rss_mb: float


def run_measured(argv: list[str], env: dict[str, str]) -> Measured:
    """Runs a command to completion; wall time and the peak RSS of it and its children."""
    log = BENCH_DIR / "last_command.log"
    with log.open("w") as output:
        started = time.perf_counter()
        process = subprocess.Popen(argv, env=env, cwd=REPO_ROOT, stdout=output, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) not in ACCEPTED_EXIT_CODES:
        raise RuntimeError(f"{' '.join(argv)} failed with exit code {os.waitstatus_to_exitcode(status)}; see {log}")
    return Measured(elapsed, usage.ru_maxrss / 1024)


def landing_for(scale: str) -> Path:
    """Generates the scale's inputs once; later benchmarks reuse them."""
    landing = BENCH_DIR / scale / "landing"
    if not (landing / "ground_truth" / "manifest.json").exists():
        params = SCALES[scale]
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pipelines.synth",
                "--scale",
                scale,
                "--years",
                params["years"],
                "--seed",
                str(params["seed"]),
                "--out",
                str(landing),
            ],
            check=True,
            cwd=REPO_ROOT,
        )
    return landing


def fresh_environment(scale: str, landing: Path) -> dict[str, str]:
    """A new warehouse, publication folder and Dagster instance for one measured run."""
    work = BENCH_DIR / scale / "run"
    shutil.rmtree(work, ignore_errors=True)
    (work / "dagster_home").mkdir(parents=True)
    (work / "warehouse").mkdir()
    shutil.copy(REPO_ROOT / "config" / "dagster.yaml", work / "dagster_home" / "dagster.yaml")
    return {
        **os.environ,
        "LANDING_DIR": str(landing),
        "WAREHOUSE_PATH": str(work / "warehouse" / "monitoring.duckdb"),
        "PUBLISH_DIR": str(work / "published"),
        "DAGSTER_HOME": str(work / "dagster_home"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "GX_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "PARTICIPANT_CODE_SALT": BENCH_PARTICIPANT_KEY,
    }


def stage_seconds(env: dict[str, str]) -> dict[str, float]:
    """Seconds per stage of the runs in the benchmark's instance.

    Read in a child process: importing Dagster here would inflate the resident set that every later
    measured child inherits when it is forked.
    """
    output = subprocess.run(
        [sys.executable, "-m", "pipelines.bench", "--stages"],
        env=env,
        cwd=REPO_ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def _stage_seconds_in_instance() -> dict[str, float]:
    """Seconds per stage, summed over the steps of every run in the instance at $DAGSTER_HOME."""
    import dagster as dg

    from pipelines.definitions import defs

    group_of_step = {}
    for spec in defs().resolve_all_asset_specs():
        group_of_step["__".join(spec.key.path)] = spec.group_name
    instance = dg.DagsterInstance.get()
    totals: dict[str, float] = defaultdict(float)
    for record in instance.get_run_records():
        for step in instance.get_run_step_stats(record.dagster_run.run_id):
            if step.start_time and step.end_time:
                totals[_stage_of_step(step.step_key, group_of_step)] += step.end_time - step.start_time
    return dict(totals)


def _stage_of_step(step_key: str, group_of_step: dict[str, str]) -> str:
    if step_key in group_of_step:
        return STAGE_OF_GROUP.get(group_of_step[step_key], "other")
    if "dbt" in step_key:
        return "dbt"
    return "publication" if "publication" in step_key else "checks"


def export_raw_tables(warehouse: Path, out: Path) -> list[str]:
    """Copies the raw tables and rule seeds to Parquet, the input of both references."""
    import duckdb

    out.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(warehouse), read_only=True)
    tables = con.execute(
        "select table_schema, table_name from information_schema.tables "
        "where table_schema in ('raw', 'rules') and table_type = 'BASE TABLE'"
    ).fetchall()
    for schema, table in tables:
        con.execute(f"copy {schema}.{table} to '{out / f'{schema}.{table}.parquet'}' (format parquet)")
    con.close()
    return [f"{schema}.{table}" for schema, table in tables]


def compiled_models_script(env: dict[str, str]) -> str:
    """Every dbt model compiled to SQL, as `create table` statements in dependency order."""
    from pipelines.defs.dbt.project import DBT_EXECUTABLE

    subprocess.run([str(DBT_EXECUTABLE), "compile", "--quiet", "--profiles-dir", "."], cwd=DBT_DIR, check=True, env=env)
    manifest = json.loads((DBT_DIR / "target" / "manifest.json").read_text())
    compiled = manifest["nodes"]
    order = _topological_models(manifest)
    schemas = sorted({compiled[node]["schema"] for node in order})
    statements = [f"create schema if not exists {schema};" for schema in schemas]
    statements += [
        f"create table {compiled[node]['schema']}.{compiled[node]['alias']} as {compiled[node]['compiled_code']};"
        for node in order
    ]
    return "\n".join(statements)


def _topological_models(manifest: dict) -> list[str]:
    models = {uid: node for uid, node in manifest["nodes"].items() if node["resource_type"] == "model"}
    done: list[str] = []
    seen: set[str] = set()

    def visit(uid: str) -> None:
        if uid in seen or uid not in models:
            return
        seen.add(uid)
        for parent in models[uid]["depends_on"]["nodes"]:
            visit(parent)
        done.append(uid)

    for uid in models:
        visit(uid)
    return done


def pure_duckdb_limit(parquet_dir: Path, tables: list[str], script: str) -> None:
    """The same models as one DuckDB script over Parquet: the practical limit."""
    import duckdb

    # Compiled SQL names relations by the warehouse's catalog, which DuckDB takes from the file name.
    database = parquet_dir / "limit" / Path(os.environ["WAREHOUSE_PATH"]).name
    shutil.rmtree(database.parent, ignore_errors=True)
    database.parent.mkdir()
    # The same memory limit as the dbt profile, so both sides spill alike.
    con = duckdb.connect(str(database), config={"memory_limit": os.environ["DUCKDB_MEMORY_LIMIT"]})
    for schema in {t.split(".")[0] for t in tables}:
        con.execute(f"create schema {schema}")
    for table in tables:
        con.execute(f"create table {table} as select * from read_parquet('{parquet_dir / f'{table}.parquet'}')")
    con.execute(script)


def naive_pandas(parquet_dir: Path) -> None:
    """Core school × year × work indicators as an analyst writes them with pandas."""
    import pandas as pd

    vpr = pd.read_parquet(parquet_dir / "raw.vpr_results.parquet", columns=["year", "login", "work_code", "mark"])
    grouped = vpr.groupby(["year", "login", "work_code"])["mark"]
    pd.DataFrame(
        {
            "participants": grouped.size(),
            "share_2": grouped.apply(lambda m: (m == 2).mean()),
            "success": grouped.apply(lambda m: (m >= 3).mean()),
            "quality": grouped.apply(lambda m: (m >= 4).mean()),
            "mean_mark": grouped.mean(),
        }
    )


REFERENCES = ("duckdb", "pandas", "decode")
SPREADSHEET_SUFFIXES = {".xlsx", ".xlsm", ".xls"}


def spreadsheets(landing: Path) -> list[Path]:
    return sorted(path for path in landing.rglob("*") if path.suffix.lower() in SPREADSHEET_SUFFIXES)


def _decode_spreadsheet(path: Path) -> int:
    """Every sheet of a workbook to Python rows, as the readers' first step does; the number of rows."""
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_path(str(path))
    return sum(len(book.get_sheet_by_name(name).to_python(skip_empty_area=False)) for name in book.sheet_names)


def decode_spreadsheets(landing: Path) -> None:
    """The landing folder's spreadsheets decoded on every core, nothing else: what no reader can skip."""
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(os.cpu_count()) as pool:
        sum(pool.map(_decode_spreadsheet, spreadsheets(landing), chunksize=32))


def reference_stage(name: str, parquet_dir: Path, tables_file: Path, script_file: Path, landing: Path) -> None:
    """Entry point of the measured reference processes."""
    if name == "duckdb":
        pure_duckdb_limit(parquet_dir, json.loads(tables_file.read_text()), script_file.read_text())
    elif name == "decode":
        decode_spreadsheets(landing)
    else:
        naive_pandas(parquet_dir)


def bench_scale(scale: str) -> dict:
    landing = landing_for(scale)
    env = fresh_environment(scale, landing)
    full = run_measured([sys.executable, "-m", "pipelines.run"], env)
    stages = stage_seconds(env)
    workbooks = published_workbooks(Path(env["PUBLISH_DIR"]))
    rerun = run_measured([sys.executable, "-m", "pipelines.run"], env)

    parquet_dir = BENCH_DIR / scale / "parquet"
    tables = export_raw_tables(Path(env["WAREHOUSE_PATH"]), parquet_dir)
    tables_file, script_file = parquet_dir / "tables.json", parquet_dir / "models.sql"
    tables_file.write_text(json.dumps(tables))
    script_file.write_text(compiled_models_script(env))
    references = {
        name: run_measured(
            [
                sys.executable,
                "-m",
                "pipelines.bench",
                "--reference",
                name,
                "--parquet",
                str(parquet_dir),
                "--landing",
                str(landing),
            ],
            env,
        )
        for name in REFERENCES
    }
    return {
        "scale": scale,
        "full": full,
        "stages": stages,
        "workbooks": workbooks,
        "rerun": rerun,
        "references": references,
        "spreadsheets": len(spreadsheets(landing)),
    }


def published_workbooks(publish_dir: Path) -> dict:
    """How long the publication spent on the Excel workbooks, as the release's manifest records it."""
    manifest = json.loads((publish_dir / "current" / "manifest.json").read_text(encoding="utf-8"))
    return manifest["workbooks"]


def report(result: dict) -> str:
    full, rerun, refs, stages = result["full"], result["rerun"], result["references"], result["stages"]
    models_in_pipeline = stages.get("ingestion", 0) + stages.get("dbt", 0)
    lines = [
        f"## {result['scale']}",
        "| measure | seconds | peak RSS, MB |",
        "|---|---:|---:|",
        f"| end to end (`python -m pipelines.run`) | {full.seconds:.1f} | {full.peak_rss_mb:.0f} |",
    ]
    lines += [f"| stage: {stage} | {seconds:.1f} | |" for stage, seconds in sorted(stages.items())]
    workbooks = result["workbooks"]
    lines.append(
        f"| – of the publication, Excel workbooks ({workbooks['cells']:,} cells, "
        f"{1 + len(workbooks['territories'])} files) | {workbooks['seconds']:.1f} | |"
    )
    lines += [
        f"| re-run, no new files | {rerun.seconds:.1f} | {rerun.peak_rss_mb:.0f} |",
        f"| pure DuckDB script, same models over Parquet | {refs['duckdb'].seconds:.1f} "
        f"| {refs['duckdb'].peak_rss_mb:.0f} |",
        f"| naive pandas, core indicators only | {refs['pandas'].seconds:.1f} | {refs['pandas'].peak_rss_mb:.0f} |",
        f"| decoding the {result['spreadsheets']:,} spreadsheets alone (calamine, {os.cpu_count()} processes) "
        f"| {refs['decode'].seconds:.1f} | {refs['decode'].peak_rss_mb:.0f} |",
        "",
        f"- naive pandas ÷ pure DuckDB script: {refs['pandas'].seconds / refs['duckdb'].seconds:.2f}",
    ]
    script, floor = refs["duckdb"].seconds, refs["duckdb"].seconds + refs["decode"].seconds
    lines.append(f"- floor of ingestion + dbt (decoding the spreadsheets + the DuckDB script): {floor:.1f} s")
    actual = {
        "end_to_end_s": full.seconds,
        "peak_rss_gb": full.peak_rss_mb / 1024,
        "rerun_share": rerun.seconds / full.seconds,
        "pipeline_to_script": models_in_pipeline / script,
    }
    floors = {"end_to_end_s": floor, "pipeline_to_script": floor / script}
    for measure, target in TARGETS[result["scale"]].items():
        verdict = "met" if actual[measure] <= target else "NOT met"
        if measure in floors:
            reachable = "" if floors[measure] <= target else ": cannot be met here with these models and inputs"
            verdict += f" (floor {floors[measure]:.2f}{reachable})"
        lines.append(f"- {measure}: {actual[measure]:.2f} (target ≤ {target}) {verdict}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=list(SCALES), action="append", help="default: every scale")
    parser.add_argument("--reference", choices=REFERENCES, help=argparse.SUPPRESS)
    parser.add_argument("--parquet", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--landing", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--stages", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.stages:
        print(json.dumps(_stage_seconds_in_instance()))
        return 0
    if args.reference:
        reference_stage(
            args.reference, args.parquet, args.parquet / "tables.json", args.parquet / "models.sql", args.landing
        )
        return 0
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    for scale in args.scale or list(SCALES):
        print(report(bench_scale(scale)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
