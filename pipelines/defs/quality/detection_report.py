"""How well the objectivity signs find the cases planted by the generator, and how often they flag others.

    python -m pipelines.defs.quality.detection_report --scale region --seed 11
    python -m pipelines.defs.quality.detection_report --scale region --seed 11 --vpr-level reports
    python -m pipelines.defs.quality.detection_report --warehouse W.duckdb --truth DIR/ground_truth/planted.csv
    python -m pipelines.defs.quality.detection_report --profile validation --seeds 201,202 --markdown FILE

Generates a landing folder (``pipelines.synth``; ``--vpr-level reports``: the same region with ВПР as the
ФИС ОКО aggregated reports only, so only the signs the reports allow are computed), loads it with the
ingestion code path, builds the objectivity models with dbt and compares ``mart_objectivity_flags`` with
``ground_truth/planted.csv``:

- recall per anomaly type: planted school-years where the school is flagged that year, and planted works
  flagged on that work (or by a sign over all works);
- false-flag rate: school-years flagged among schools with no planted ВПР case; honest high performers
  (lyceums, gymnasiums, high-context schools whose results are confirmed) are reported apart.

``--profile validation`` generates the validation region of pipelines/synth/anomalies.yml once per seed
of ``--seeds`` and pools them: recall per anomaly type × strength × size class beside the oracle bound,
flag rates of clean school-years by size class and of the controls (validation.py, docs/validation.md).
Seeds 101,102 are the tuning family, 201,202 the held-out family: tune on the first, report on the second.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import pandas as pd

from pipelines.bench import BENCH_PARTICIPANT_KEY
from pipelines.defs.dbt.project import DBT_EXECUTABLE, DBT_PROJECT_DIR
from pipelines.defs.quality import validation
from pipelines.synth.anomalies import DEFAULT_PROFILE, profile, profiles
from pipelines.synth.plan import VPR_CASES

HONEST = "honest_high_performer"
OBJECTIVITY_SELECTION = "+path:models/objectivity"


def build_warehouse(landing: Path, warehouse: Path) -> None:
    """Raw tables through the ingestion code path, then the objectivity models and what they need.

    dbt runs in its own process: in this one it would keep the database open with its own settings.
    """
    from pipelines.defs.quality.reviews import load_reviews
    from pipelines.ingest.load import load_landing

    with duckdb.connect(str(warehouse)) as con:
        load_landing(landing, con)
        load_reviews(con, landing)
    subprocess.run(
        [
            str(DBT_EXECUTABLE),
            "build",
            "--select",
            OBJECTIVITY_SELECTION,
            "--exclude",
            "resource_type:test",
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--target-path",
            str(warehouse.parent / "dbt_target"),
            "--log-path",
            str(warehouse.parent / "dbt_logs"),
            "--quiet",
        ],
        env={**os.environ, "WAREHOUSE_PATH": str(warehouse)},
        check=True,
    )


def flagged_school_years(con) -> pd.DataFrame:
    return con.execute("""
        select login, year, work_code, sign
        from objectivity.mart_objectivity_flags
        where flagged
    """).df()


def assessed_school_years(con) -> pd.DataFrame:
    return con.execute("select distinct login, year from objectivity.mart_objectivity_school_year").df()


def recall_by_case(planted: pd.DataFrame, flags: pd.DataFrame) -> pd.DataFrame:
    """Per planted case: school-years and works planted, and how many of them are flagged."""
    cases = planted[planted["case"].isin(VPR_CASES)]
    flagged_years = set(zip(flags["login"], flags["year"]))
    flagged_works = set(zip(flags["login"], flags["year"], flags["work_code"]))
    rows = []
    for case, group in cases.groupby("case"):
        school_years = set(zip(group["login"], group["year"]))
        works = set(zip(group["login"], group["year"], group["work_code"]))
        found_works = {w for w in works if w in flagged_works or (w[0], w[1], "ALL") in flagged_works}
        rows.append(
            {
                "anomaly": case,
                "school_years": len(school_years),
                "school_years_flagged": len(school_years & flagged_years),
                "recall_school_year": len(school_years & flagged_years) / len(school_years),
                "works": len(works),
                "works_flagged": len(found_works),
                "recall_work": len(found_works) / len(works),
            }
        )
    return pd.DataFrame(rows)


def false_flags(planted: pd.DataFrame, flags: pd.DataFrame, assessed: pd.DataFrame) -> pd.DataFrame:
    """Flag rates among school-years of schools without a planted ВПР case, and of honest high performers."""
    manipulated = set(planted.loc[planted["case"].isin(VPR_CASES), "login"])
    honest = set(planted.loc[planted["case"] == HONEST, "login"]) - manipulated
    flagged = set(zip(flags["login"], flags["year"]))
    rows = []
    for label, keep in (
        ("schools without planted cases", lambda login: login not in manipulated),
        ("honest high performers", lambda login: login in honest),
    ):
        years = {(login, year) for login, year in zip(assessed["login"], assessed["year"]) if keep(login)}
        hits = years & flagged
        rows.append(
            {
                "group": label,
                "school_years": len(years),
                "flagged": len(hits),
                "false_flag_rate": len(hits) / len(years) if years else float("nan"),
            }
        )
    return pd.DataFrame(rows)


def false_flags_by_sign(planted: pd.DataFrame, flags: pd.DataFrame) -> pd.DataFrame:
    manipulated = set(planted.loc[planted["case"].isin(VPR_CASES), "login"])
    others = flags[~flags["login"].isin(manipulated)]
    return (
        others.drop_duplicates(["login", "year", "sign"])
        .groupby("sign")
        .size()
        .rename("school_years_flagged")
        .reset_index()
    )


def report(warehouse: Path, truth: Path) -> str:
    planted = pd.read_csv(truth)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        flags, assessed = flagged_school_years(con), assessed_school_years(con)
    recall = recall_by_case(planted, flags)
    false = false_flags(planted, flags, assessed)
    by_sign = false_flags_by_sign(planted, flags)
    return "\n\n".join(
        [
            "Detection recall per anomaly type\n" + recall.to_string(index=False, float_format="{:.2f}".format),
            "False flags\n" + false.to_string(index=False, float_format="{:.4f}".format),
            "Flags on schools without planted cases, by sign (school-years)\n"
            + (by_sign.to_string(index=False) if len(by_sign) else "none"),
        ]
    )


def generate_and_build(workdir: Path, scale: str, seed: int, years: str, vpr_level: str, anomalies: str) -> Path:
    """A generated landing folder in workdir/landing and its warehouse; returns the landing folder."""
    from pipelines.synth.__main__ import main as generate

    landing, warehouse = workdir / "landing", workdir / "warehouse.duckdb"
    generate(
        [
            *("--scale", scale, "--years", years, "--seed", str(seed), "--out", str(landing)),
            *("--vpr-level", vpr_level, "--anomalies", anomalies),
        ]
    )
    # The generated РЦОИ lists carry dummy documents and are read only with a key: the benchmark's, for
    # generated data, unless one is set.
    os.environ.setdefault("PARTICIPANT_CODE_SALT", BENCH_PARTICIPANT_KEY)
    build_warehouse(landing, warehouse)
    return landing


def validation_report(workdir: Path, seeds: list[int], years: str, anomalies: str, markdown: Path | None) -> str:
    """Generates and builds one region per seed under workdir/seed_<seed> and reports on them pooled; a
    seed whose warehouse is already there (a kept --workdir) is reported on without generating it again."""
    planted, oracle, flags = [], [], []
    for seed in seeds:
        folder = workdir / f"seed_{seed}"
        started = time.perf_counter()
        if not (folder / "warehouse.duckdb").exists():
            folder.mkdir(parents=True, exist_ok=True)
            generate_and_build(folder, profile(anomalies).scale, seed, years, "participants", anomalies)
            print(f"seed {seed}: generated and built in {time.perf_counter() - started:.0f} s", flush=True)
        seed_planted, seed_oracle = validation.read_seed(folder / "landing", seed)
        with duckdb.connect(str(folder / "warehouse.duckdb"), read_only=True) as con:
            flags.append(flagged_school_years(con).drop_duplicates(["login", "year"]).assign(seed=seed))
        planted.append(seed_planted)
        oracle.append(seed_oracle)
    tables = validation.validation_tables(
        pd.concat(planted, ignore_index=True),
        pd.concat(oracle, ignore_index=True),
        pd.concat(flags, ignore_index=True),
        profile(anomalies),
    )
    family = validation.seed_family(seeds)
    heading = f"{anomalies} profile, seeds {','.join(map(str, seeds))} ({family}), {years}"
    if markdown:
        markdown.write_text(f"{heading}\n\n{validation.render(tables, markdown=True)}", encoding="utf-8")
    return f"{heading}\n\n{validation.render(tables)}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pipelines.defs.quality.detection_report",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--scale",
        default="region",
        help="generator scale (municipality, region, federal); a --profile other than default uses its own",
    )
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--years", default="2019-2024")
    parser.add_argument(
        "--vpr-level",
        choices=("participants", "reports"),
        default="participants",
        help="generate ВПР as participant rows or as the ФИС ОКО aggregated reports only",
    )
    parser.add_argument("--workdir", type=Path, help="keep the landing folder and warehouse here")
    parser.add_argument("--warehouse", type=Path, help="report on an already built warehouse (skips generation)")
    parser.add_argument("--truth", type=Path, help="planted.csv for --warehouse")
    parser.add_argument(
        "--profile",
        choices=list(profiles()),
        default=DEFAULT_PROFILE,
        help="anomaly profile of pipelines/synth/anomalies.yml; 'validation' gives the validation report",
    )
    parser.add_argument(
        "--seeds",
        type=lambda text: [int(s) for s in text.split(",")],
        default=list(validation.HELD_OUT_SEEDS),
        help="with --profile validation: seeds pooled; 101,102 tuning family, 201,202 held-out (default)",
    )
    parser.add_argument("--markdown", type=Path, help="with --profile validation: also write the tables here")
    args = parser.parse_args(argv)
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    started = time.perf_counter()
    if args.profile != DEFAULT_PROFILE:
        with tempfile.TemporaryDirectory(prefix="validation_") as scratch:
            workdir = args.workdir or Path(scratch)
            print(validation_report(workdir, args.seeds, args.years, args.profile, args.markdown))
        print(f"({time.perf_counter() - started:.0f} s)")
        return 0
    if args.warehouse:
        if not args.truth:
            parser.error("--warehouse needs --truth")
        print(report(args.warehouse, args.truth))
        return 0
    with tempfile.TemporaryDirectory(prefix="detection_") as scratch:
        workdir = args.workdir or Path(scratch)
        landing = generate_and_build(workdir, args.scale, args.seed, args.years, args.vpr_level, DEFAULT_PROFILE)
        print(
            f"\n{args.scale} scale, seed {args.seed}, {args.years}, ВПР as {args.vpr_level} "
            f"({time.perf_counter() - started:.0f} s)\n"
        )
        print(report(workdir / "warehouse.duckdb", landing / "ground_truth" / "planted.csv"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
