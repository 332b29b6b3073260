"""Fetchers II benchmarks, measured in one run on this machine (no network).

1. Manual ingest (`--from`) of a folder of slides (default 2 GiB in 16 files, one MIRAX unit):
   time of `histodata.sources.manual.ingest` (match, size, md5 + sha256 in one read, hard link)
   vs the floor `sha256sum` of the same bytes; and the extra disk space used (hard links: ~0).
2. A Google Drive folder of 1000 files listed through the local emulator: listing time and
   requests per file (target: one request per folder, whatever the number of files).
3. A Girder folder of 500 items through the local emulator: listing time and requests.

    python benchmarks/bench_fetch2.py [--ingest-mib 2048] [--repeat 2]
"""
from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))


def best_of(repeat: int, run) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def disk_used(folder: Path) -> int:
    """Bytes of distinct inodes under `folder` (hard links count once)."""
    seen, total = set(), 0
    for path in folder.rglob("*"):
        if path.is_file():
            info = path.stat()
            if (info.st_dev, info.st_ino) not in seen:
                seen.add((info.st_dev, info.st_ino))
                total += info.st_blocks * 512
    return total


def bench_ingest(total_mib: int, repeat: int, tmp: Path) -> None:
    from histodata.layout import DatasetPaths
    from histodata.registry.models import Entry
    from histodata.sources import manual

    incoming = tmp / "incoming"
    incoming.mkdir()
    per_file = (total_mib << 20) // 16
    block = os.urandom(1 << 20)
    specs = []
    for i in range(15):
        path = incoming / f"slide_{i:02d}.svs"
        with open(path, "wb") as handle:
            handle.writelines(block for _ in range(per_file >> 20))
        specs.append({"name": f"slide_{i:02d}.svs", "size": path.stat().st_size,
                      "md5": hashlib.md5(path.read_bytes()).hexdigest()})
    (incoming / "case").mkdir()
    (incoming / "case.mrxs").write_bytes(b"[GENERAL]")
    (incoming / "case" / "Slidedat.ini").write_bytes(b"[GENERAL]")
    with open(incoming / "case" / "Data0000.dat", "wb") as handle:
        handle.writelines(block for _ in range(per_file >> 20))
    specs.append({"name": "case.mrxs"})
    entry = Entry(id="bench", name="bench", organs=["breast"], stains=["h&e"], tasks=["classification"],
                  modality="wsi", access="registration", instructions="by hand",
                  sources=[{"kind": "manual", "files": specs}])
    before = disk_used(tmp)

    def ingest():
        shutil.rmtree(tmp / "root", ignore_errors=True)
        report = manual.ingest(entry, incoming, DatasetPaths(tmp / "root", "bench"), quiet=True)
        assert report.ok and len(report.adopted) == 18, report.summary()

    def floor():
        subprocess.run(["sha256sum", *(str(p) for p in sorted(incoming.rglob("*")) if p.is_file())], check=True,
                       capture_output=True)

    ours, sha = best_of(repeat, ingest), best_of(repeat, floor)
    extra = disk_used(tmp) - before
    print(f"manual ingest of {total_mib} MiB (16 files + a MIRAX unit): {ours:.2f} s "
          f"({total_mib / ours:.0f} MiB/s); sha256sum alone {sha:.2f} s; ratio {ours / sha:.2f}x "
          f"(ingest also computes md5); extra disk used by raw/: {extra >> 10} KiB")


def bench_drive_listing(repeat: int) -> None:
    from emulators.gdrive import DriveEmulator, drive_id

    from histodata.http import new_session
    from histodata.registry.models import Source
    from histodata.sources import gdrive

    with DriveEmulator() as emulator:
        root = drive_id(1, "0")
        emulator.add_folder(root, "big")
        for i in range(1000):
            emulator.add_file(drive_id(1000 + i), f"tile_{i:04d}.png", b"x", folder=root)
        os.environ["HISTODATA_MIRRORS"] = emulator.mirrors()
        seconds = best_of(repeat, lambda: gdrive.list_files(Source(kind="gdrive", folder=root), new_session(), None))
        requests = len(emulator.server.requests) / repeat
    print(f"Drive folder of 1000 files listed in {seconds * 1000:.0f} ms with {requests:.0f} request(s) "
          f"(gdown <= 5 stops at 50 files)")


def bench_girder_listing(repeat: int) -> None:
    from emulators.girder import GirderEmulator

    from histodata.http import new_session
    from histodata.registry.models import Source
    from histodata.sources import girder

    with GirderEmulator() as emulator:
        folder = emulator.folder(emulator.collection("c"), "slides")
        for i in range(500):
            emulator.item(folder, f"slide_{i:03d}.svs", {f"slide_{i:03d}.svs": b"x" * 10})
        os.environ["HISTODATA_MIRRORS"] = f"https://girder.example.org={emulator.server.url}"
        source = Source(kind="girder", api_url="https://girder.example.org/api/v1", folder=folder.id)
        seconds = best_of(repeat, lambda: girder.list_files(source, new_session(), None))
        requests = len(emulator.server.requests) / repeat
    print(f"Girder folder of 500 items listed in {seconds * 1000:.0f} ms with {requests:.0f} requests "
          f"({requests / 500:.2f} per item: one item/files call each, as girder-client does)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ingest-mib", type=int, default=2048)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--tmp", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.tmp) as tmp:
        bench_ingest(args.ingest_mib, args.repeat, Path(tmp))
    bench_drive_listing(args.repeat)
    bench_girder_listing(args.repeat)


if __name__ == "__main__":
    main()
