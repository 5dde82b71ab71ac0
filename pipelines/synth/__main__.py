"""Command line: `python -m pipelines.synth --scale municipality --years 2019-2024 --seed 42 --out data/sample`.

`--anomalies validation` generates the validation region of docs/validation.md instead of the default
anomaly model (the profiles are in pipelines/synth/anomalies.yml).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from pipelines.synth.anomalies import DEFAULT_PROFILE, profile, profiles
from pipelines.synth.generate import VPR_LEVELS, generate
from pipelines.synth.schools import SCALES
from pipelines.synth.specs import DEFAULT_WORKS, all_vpr_work_codes


def parse_years(text: str) -> list[int]:
    """'2019-2024' → 2019…2024; '2024' → [2024]; '2019,2021' → [2019, 2021]."""
    years: list[int] = []
    for part in text.split(","):
        first, _, last = part.partition("-")
        years += range(int(first), int(last or first) + 1)
    return sorted(set(years))


def parse_works(text: str) -> tuple[str, ...]:
    works = all_vpr_work_codes() if text == "all" else tuple(w.strip().upper() for w in text.split(","))
    unknown = set(works) - set(all_vpr_work_codes())
    if unknown:
        raise argparse.ArgumentTypeError(f"works not in vpr_works.csv: {', '.join(sorted(unknown))}")
    return works


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.synth", description=__doc__)
    parser.add_argument("--scale", choices=list(SCALES), help="default: the anomaly profile's (municipality)")
    parser.add_argument(
        "--anomalies",
        choices=list(profiles()),
        default=DEFAULT_PROFILE,
        help="the anomaly profile of pipelines/synth/anomalies.yml: which cases, how strong, how many schools",
    )
    parser.add_argument("--years", type=parse_years, default=parse_years("2019-2024"), help="e.g. 2019-2024")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, required=True, help="the landing folder to write")
    parser.add_argument(
        "--works",
        type=parse_works,
        default=None,
        help=f"ВПР works, comma-separated, or 'all' (default: all at federal scale, else {','.join(DEFAULT_WORKS)})",
    )
    parser.add_argument("--workers", type=int, default=None, help="processes writing ВПР forms")
    parser.add_argument(
        "--vpr-level",
        choices=VPR_LEVELS,
        default="participants",
        help="ВПР as participant rows, as the ФИС ОКО aggregated reports only, or both",
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    args.scale = args.scale or profile(args.anomalies).scale
    out = generate(
        args.scale,
        args.years,
        args.seed,
        args.out,
        works=args.works,
        workers=args.workers,
        vpr_level=args.vpr_level,
        anomalies=args.anomalies,
    )
    counts = json.loads((out / "ground_truth" / "manifest.json").read_text(encoding="utf-8"))["counts"]
    vpr = (
        f"{sum(counts['vpr_rows'].values())} ВПР rows"
        if args.vpr_level == "participants"
        else f"{sum(counts['vpr_rows'].values())} ВПР participants in {sum(counts['vpr_report_files'].values())} "
        "report files"
    )
    print(
        f"{args.scale} scale, {args.anomalies} anomalies, {args.years[0]}–{args.years[-1]}, seed {args.seed}: "
        f"{counts['schools']} schools, "
        f"{vpr}, {sum(counts['gia_rows'].values())} ГИА rows "
        f"→ {out} in {time.perf_counter() - started:.0f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
