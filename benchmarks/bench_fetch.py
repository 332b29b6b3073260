"""Fetchers I benchmarks, measured in one run on this machine (no network: local emulators).

1. `histodata.fetch` of a Zenodo record (default 200 files of 256 KiB) through the emulator vs a
   naive client (sequential `requests.get` + md5 of each file, no resume, no record).
2. A second `fetch` of the complete dataset (record + sizes, no re-hash, no request) vs the first.
3. `histodata.verify` (re-hash against the record) vs `sha256sum` of the same files.
4. Listing a figshare article of 2500 files (paged): time and requests.

    python benchmarks/bench_fetch.py [--files 200] [--kib 256] [--repeat 3]
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


def timed(run) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def best_of(repeat: int, run, before=None) -> float:
    times = []
    for _ in range(repeat):
        if before:
            before()
        times.append(timed(run))
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--kib", type=int, default=256)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-fetch-"))
    os.environ.update(HISTODATA_HOME=str(work / "home"), HISTODATA_CACHE=str(work / "cache"),
                      HISTODATA_REGISTRY=str(work / "registry"))
    import requests

    import histodata
    from emulators.entries import entry_yaml
    from emulators.figshare import FigshareEmulator
    from emulators.zenodo import ZenodoEmulator
    from histodata.layout import dataset_paths
    from histodata.registry import loader

    files = {f"tiles/{i:04d}.png": os.urandom(args.kib * 1024) for i in range(args.files)}
    total_mb = args.files * args.kib / 1024
    (work / "registry").mkdir()
    (work / "registry" / "bench.yaml").write_text(entry_yaml("bench", {"kind": "zenodo", "record": "777"}))
    loader.clear_cache()
    paths = dataset_paths("bench")

    with ZenodoEmulator() as zen:
        zen.add("777", files)
        zen.rate_limit(10**6, 60)      # measure the transfer, not Zenodo's 60-a-minute guest limit
        os.environ["HISTODATA_MIRRORS"] = zen.mirrors()

        def naive():
            session = requests.Session()
            record = session.get(f"{zen.server.url}/api/records/777").json()
            for f in record["files"]:
                url = f["links"]["self"].replace("https://zenodo.org", zen.server.url)
                data = session.get(url).content
                assert hashlib.md5(data).hexdigest() == f["checksum"].split(":")[1]
                (work / "naive.bin").write_bytes(data)

        def clear():
            shutil.rmtree(paths.base, ignore_errors=True)

        ours = best_of(args.repeat, lambda: histodata.fetch("bench", quiet=True), before=clear)
        baseline = best_of(args.repeat, naive)
        again = best_of(args.repeat, lambda: histodata.fetch("bench", quiet=True))
        requests_before = len(zen.server.requests)
        histodata.fetch("bench", quiet=True)
        requests_again = len(zen.server.requests) - requests_before

    verify = best_of(args.repeat, lambda: histodata.verify("bench", quiet=True))
    raw_files = [str(p) for p in paths.raw.rglob("*.png")]
    floor = best_of(args.repeat, lambda: subprocess.run(["sha256sum", *raw_files], check=True,
                                                        stdout=subprocess.DEVNULL))

    with FigshareEmulator() as fig:
        article = fig.add_article({f"f{i}.bin": b"x" for i in range(2500)})
        os.environ["HISTODATA_MIRRORS"] = fig.mirrors()
        from histodata.http import new_session
        from histodata.registry.models import Source
        from histodata.sources import figshare

        listing = best_of(1, lambda: figshare.list_files(Source(kind="figshare", article=article.id),
                                                         new_session(), None))
        list_requests = len(fig.api.requests)

    print(f"1. fetch of {args.files} files ({total_mb:.0f} MiB): {ours:.2f} s ({total_mb / ours:.0f} MiB/s); "
          f"naive sequential client {baseline:.2f} s; ratio ours/naive = {ours / baseline:.2f}")
    print(f"2. second fetch (complete): {again * 1000:.0f} ms, {requests_again} request(s); "
          f"ratio second/first = {again / ours:.3f}")
    print(f"3. verify: {verify:.2f} s; sha256sum {floor:.2f} s; ratio verify/sha256sum = {verify / floor:.2f}")
    print(f"4. figshare listing of 2500 files: {listing:.2f} s, {list_requests} request(s) "
          f"({list_requests / 2500:.4f} per file)")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
