"""Benchmark: a class-folder zip of N small tiles (default 100,000).

Prints, measured in one run on this machine:
  * plain `unzip -q` of the zip (the baseline),
  * zip -> manifest with `standardize_dataset` (folder-per-class: safe extraction straight into
    images/, walk, manifest), and its ratio to unzip (target: at most 1.5x),
  * the whole fetch flow (download from a local HTTP server through the mirror map, verify, standardize),
  * the time to load the manifest (`histodata.load(id).manifest`).

    python benchmarks/bench_standardize.py [--tiles 100000]
"""
from __future__ import annotations

import argparse
import io
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

CLASSES = ["ADI", "BACK", "DEB", "LYM", "MUC", "MUS", "NORM", "STR", "TUM"]


def tile_bytes(seed: int) -> bytes:
    """A small, distinct 32x32 PNG tile."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    buffer = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def build_zip(path: Path, tiles: int) -> None:
    variants = [tile_bytes(i) for i in range(64)]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for i in range(tiles):
            cls = CLASSES[i % len(CLASSES)]
            root = "NCT-CRC-HE-100K" if i % 10 else "CRC-VAL-HE-7K"
            zf.writestr(f"{root}/{cls}/{cls}-{i:06d}.png", variants[i % len(variants)])


def timed(fn) -> float:
    """Seconds `fn` takes until its files are on disk: earlier writes are flushed before, and its own
    writes are flushed inside the measurement. Without the second sync, whichever step happens to hit
    the kernel's dirty-page limit pays for the other's writeback (on this VM that swung single rounds
    from 5 to 23 s)."""
    os.sync()
    start = time.perf_counter()
    fn()
    os.sync()
    return time.perf_counter() - start


def serve(folder: Path):
    """A local HTTP server for `folder` on 127.0.0.1 (port chosen by the OS), in a thread."""
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def fetch_to_manifest(work: Path, archive: Path, options: dict) -> float:
    """The whole flow: `histodata.fetch` of an http entry (served locally) -> download, verify, standardize."""
    import hashlib
    import json

    import histodata
    from histodata.registry import loader

    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    registry = work / "registry"
    registry.mkdir()
    entry = {"name": "bench", "organs": ["colon"], "stains": ["h&e"], "tasks": ["classification"],
             "modality": "patch", "access": "open", "license": "CC-BY-4.0",
             "sources": [{"kind": "http", "files": [{"name": archive.name, "size": archive.stat().st_size,
                                                      "sha256": digest,
                                                      "url": f"https://bench.example.org/{archive.name}"}]}],
             "standardize": {"with": "folder-per-class", "options": options}}
    (registry / "bench-fetch.yaml").write_text("id: bench-fetch\n" + "\n".join(
        f"{k}: {json.dumps(v)}" for k, v in entry.items()))
    server = serve(archive.parent)
    os.environ["HISTODATA_REGISTRY"] = str(registry)
    os.environ["HISTODATA_MIRRORS"] = f"https://bench.example.org=http://127.0.0.1:{server.server_port}"
    loader.clear_cache()
    try:
        return timed(lambda: histodata.fetch("bench-fetch", quiet=True))
    finally:
        server.shutdown()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiles", type=int, default=100_000)
    parser.add_argument("--zip", type=Path, help="reuse a zip built by an earlier run (build_zip layout)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating unzip/standardize rounds")
    parser.add_argument("--read-sizes", action="store_true", help="also read every tile's width/height")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-standardize-"))
    try:
        archive = work / "tiles.zip"
        if args.zip:
            os.link(args.zip, archive) if args.zip.stat().st_dev == work.stat().st_dev else shutil.copy(args.zip, archive)
        else:
            print(f"building {args.tiles} tiles ...", file=sys.stderr)
            build_zip(archive, args.tiles)
        os.environ["HISTODATA_HOME"] = str(work / "home")
        from histodata.layout import dataset_paths
        from histodata.local import load
        from histodata.standardize import standardize_dataset

        options = {"splits": {"NCT-CRC-HE-100K": "train", "CRC-VAL-HE-7K": "test"}, "read_sizes": args.read_sizes}

        def entry(dataset_id: str) -> dict:
            return {"id": dataset_id, "name": "bench", "organs": ["colon"], "stains": ["h&e"],
                    "tasks": ["classification"], "modality": "patch", "access": "open",
                    "standardize": {"with": "folder-per-class", "options": options}}

        import pandas  # noqa: F401 - imported once by any real run too; not part of the work measured

        # Alternate the two on the same machine state; report medians (the machine may be shared).
        unzips, standardizes = [], []
        for round_ in range(args.rounds):
            unzip_dir = work / f"unzip{round_}"
            unzips.append(timed(lambda: subprocess.run(["unzip", "-q", str(archive), "-d", str(unzip_dir)],
                                                       check=True)))
            shutil.rmtree(unzip_dir)
            paths = dataset_paths(f"bench-tiles-{round_}")
            paths.raw.mkdir(parents=True)
            os.link(archive, paths.raw / archive.name)
            standardizes.append(timed(lambda: standardize_dataset(entry(paths.id), paths, quiet=True)))
            if round_:  # like unzip's folder, later rounds' output goes (round 0 is kept for the checks below)
                shutil.rmtree(paths.base)
        t_unzip, t_std = statistics.median(unzips), statistics.median(standardizes)
        paths = dataset_paths("bench-tiles-0")
        t_again = timed(lambda: standardize_dataset(entry(paths.id), paths, quiet=True))
        t_load = timed(lambda: len(load("bench-tiles-0").manifest))
        rows = len(load("bench-tiles-0").manifest)
        try:
            t_fetch = fetch_to_manifest(work, archive, options)
            assert len(load("bench-fetch").manifest) == rows
        except ImportError:   # no fetch flow in this installation
            t_fetch = None
        print(f"tiles: {rows}")
        print(f"rounds: {args.rounds} (medians; unzip {', '.join(f'{t:.2f}' for t in unzips)} s; "
              f"standardize {', '.join(f'{t:.2f}' for t in standardizes)} s)")
        print(f"unzip -q:                      {t_unzip:7.2f} s")
        print(f"zip -> manifest (standardize): {t_std:7.2f} s   ratio to unzip: {t_std / t_unzip:.2f}x (target <= 1.5x)")
        if t_fetch is not None:
            print(f"fetch -> manifest (download from a local HTTP server, verify sha256, standardize): "
                  f"{t_fetch:7.2f} s   ratio to unzip: {t_fetch / t_unzip:.2f}x")
        print(f"second run (nothing new):      {t_again:7.3f} s")
        print(f"manifest load:                 {t_load:7.3f} s")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
