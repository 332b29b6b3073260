"""Wall time of `histodata search breast --json` (target: well under 0.35 s).

Run from a fresh install (`pip install .`) to measure the shipped index, or from a checkout (the
index is then built once and cached). Prints the median of N runs and the ratio to the target.

    python benchmarks/bench_search.py [--runs 15]
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

TARGET_SECONDS = 0.35


def run_once(argv: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    result = subprocess.run(argv, capture_output=True, text=True, check=True)
    return time.perf_counter() - start, result.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--command", default="histodata", help="the histodata executable")
    args = parser.parse_args()
    argv = [args.command, "search", "breast", "--json"]
    _, first = run_once(argv)  # warm the OS cache (and build the index cache in a checkout)
    entries = json.loads(first)
    times = [run_once(argv)[0] for _ in range(args.runs)]
    total = len(json.loads(run_once([args.command, "search", "--json"])[1]))
    median = statistics.median(times)
    print(f"registry entries: {total}; 'breast' matches: {len(entries)}")
    print(f"search breast --json: median {median * 1000:.0f} ms, min {min(times) * 1000:.0f} ms, "
          f"max {max(times) * 1000:.0f} ms over {args.runs} runs")
    print(f"ratio to the {TARGET_SECONDS:.2f} s target: {median / TARGET_SECONDS:.2f}x "
          f"({'OK' if median < TARGET_SECONDS else 'TOO SLOW'})")
    print(f"python: {sys.version.split()[0]}")


if __name__ == "__main__":
    main()
