"""Median extract time per seed document (ingest → segment → rules), one core.

    python3 benchmarks/bench_extract.py [--repeat N]
"""
from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from structurer.pipeline import extract_file

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=21)
    args = ap.parse_args()
    files = sorted((ROOT / "examples").glob("*.txt"))
    extract_file(files[0])  # warm imports and caches
    print(f"{'document':32} {'KB':>6} {'median ms':>10} {'min ms':>8}")
    medians = []
    for f in files:
        times = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            extract_file(f)
            times.append((time.perf_counter() - t) * 1000)
        med = statistics.median(times)
        medians.append(med)
        print(f"{f.name:32} {f.stat().st_size / 1024:6.0f} {med:10.1f} {min(times):8.1f}")
    print(f"{'all (median of medians)':32} {'':6} {statistics.median(medians):10.1f}")


if __name__ == "__main__":
    main()
