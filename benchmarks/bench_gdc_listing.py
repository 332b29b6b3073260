"""How long a dry run of all TCGA slides takes: 30,000 GDC files listed through the GDC emulator.

1. `histodata fetch tcga --dry-run --json` (the real CLI in a process: start-up, the paged
   `files` search, selection, grouping by project, the JSON report) for N files (default 30,000,
   about the number of TCGA slide images), and the number of search requests it made.
2. The same with `--where project=TCGA-BRCA` (the listing is the same; the selection is local).
3. `gdc.list_files` alone, in this process.

The emulator answers on 127.0.0.1 (no network); its own work (filtering and projecting every hit
per page) is part of the time, as the real API's would be.

    python benchmarks/bench_gdc_listing.py [--files 30000] [--repeat 3]
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

PROJECTS = ["TCGA-BRCA", "TCGA-LUAD", "TCGA-LUSC", "TCGA-COAD", "TCGA-KIRC", "TCGA-GBM", "TCGA-OV", "TCGA-PRAD",
            "TCGA-UCEC", "TCGA-THCA"]


def build(count: int):
    from emulators.gdc import GDCEmulator

    emulator = GDCEmulator()
    for i in range(count):
        project = PROJECTS[i % len(PROJECTS)]
        case = f"TCGA-{i % 97:02d}-{i // 3:04d}"
        kind = ("DX1", "Diagnostic Slide") if i % 3 else ("TS1", "Tissue Slide")
        emulator.add(f"{i:08d}-0000-4000-8000-000000000000", f"{case}-01Z-00-{kind[0]}.{i:08X}.svs", b"",
                     project, case, experimental_strategy=kind[1], size=100_000_000 + i)
    return emulator.start()


def cli(args: list[str], env: dict) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "histodata", *args], env=env, capture_output=True, text=True,
                            timeout=600)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"histodata failed: {result.stderr[-2000:]}")
    return elapsed, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=30_000)
    parser.add_argument("--repeat", type=int, default=3)
    options = parser.parse_args()

    print(f"building an emulator with {options.files:,} GDC slide files ...", flush=True)
    emulator = build(options.files)
    with tempfile.TemporaryDirectory(prefix="bench-gdc-") as home:
        env = {**os.environ, "HISTODATA_MIRRORS": emulator.mirrors(), "HISTODATA_HOME": home,
               "HISTODATA_CACHE": str(Path(home) / "cache"), "PYTHONPATH": str(REPO)}
        os.environ.update({k: env[k] for k in ("HISTODATA_MIRRORS", "HISTODATA_HOME", "HISTODATA_CACHE")})
        try:
            for label, extra in (("dry run, all", []), ("dry run, --where project=TCGA-BRCA",
                                                        ["--where", "project=TCGA-BRCA"])):
                before = len(emulator.server.seen("/files"))
                times, result = [], None
                for _ in range(options.repeat):
                    elapsed, result = cli(["fetch", "tcga", "--dry-run", "--json", *extra], env)
                    times.append(elapsed)
                import json

                document = json.loads(result.stdout)
                requests = (len(emulator.server.seen("/files")) - before) // options.repeat
                print(f"{label}: {len(document['files']):,} files in {len(document['groups'])} groups, "
                      f"{document['total_bytes'] / 1e12:.2f} TB; best {min(times):.2f} s "
                      f"(runs: {', '.join(f'{t:.2f}' for t in times)}), {requests} search request(s) per run")

            from histodata.http import new_session
            from histodata.registry.models import Source
            from histodata.sources import gdc

            start = time.perf_counter()
            listed = gdc.list_files(Source(kind="gdc", program="TCGA"), new_session(), None)
            print(f"gdc.list_files in-process: {len(listed):,} files in {time.perf_counter() - start:.2f} s")
        finally:
            emulator.stop()
    print(f"load average: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
