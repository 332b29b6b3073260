"""Fetch on a Dask cluster: how the download of many files scales with worker processes.

A local server caps each connection (default 1 MiB/s, as a data host that throttles every
stream) and, optionally, its whole link (default 6 MiB/s, the point where scaling must stop).
`histodata.fetch(id, client=...)` downloads the same files (default 48 x 1 MiB, md5-checked) with
a LocalCluster of 1, 2 and 4 worker processes (2 threads each); the per-host limit is set high
(`workers=64`) so that only the server's caps bind. Printed: wall time, MiB/s, speed-up over one
worker, and the ceiling the caps allow.

    python benchmarks/bench_cluster.py [--files 48] [--mib 1] [--cap-mib 1] [--link-mib 6] [--workers 1 2 4]
"""
from __future__ import annotations

import argparse
import hashlib
import http.server
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
CHUNK = 64 << 10


class Bucket:
    """A token bucket shared by every connection: the server's link."""

    def __init__(self, rate: float):
        self.rate, self.level, self.when = rate, 0.0, time.monotonic()
        self.lock = threading.Lock()

    def take(self, count: int) -> None:
        if self.rate <= 0:
            return
        with self.lock:
            now = time.monotonic()
            self.level = max(0.0, self.level - (now - self.when) * self.rate) + count
            self.when = now
            wait = self.level / self.rate
        if wait > 0.05:
            time.sleep(wait - 0.05)


def capped_server(files: dict[str, bytes], per_connection: float, link: float):
    bucket = Bucket(link)

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_GET(self):  # noqa: N802
            data = files.get(self.path.lstrip("/"))
            if data is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            started = time.monotonic()
            for offset in range(0, len(data), CHUNK):
                piece = data[offset:offset + CHUNK]
                bucket.take(len(piece))
                self.wfile.write(piece)
                ahead = (offset + len(piece)) / per_connection - (time.monotonic() - started)
                if ahead > 0:
                    time.sleep(ahead)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=48)
    parser.add_argument("--mib", type=float, default=1.0, help="size of each file")
    parser.add_argument("--cap-mib", type=float, default=1.0, help="MiB/s per connection")
    parser.add_argument("--link-mib", type=float, default=6.0, help="MiB/s of the whole server (0: none)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--threads", type=int, default=2, help="threads per worker process")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-cluster-"))
    os.environ.update(HISTODATA_HOME=str(work / "home"), HISTODATA_CACHE=str(work / "cache"),
                      HISTODATA_REGISTRY=str(work / "registry"))
    from distributed import Client, LocalCluster

    import histodata
    from emulators.entries import entry_yaml
    from helpers import write_entry
    from histodata.layout import dataset_paths
    from histodata.registry import loader

    size = int(args.mib * (1 << 20))
    files = {f"f{n:03d}.bin": os.urandom(size) for n in range(args.files)}
    server = capped_server(files, args.cap_mib * (1 << 20), args.link_mib * (1 << 20))
    url = f"http://127.0.0.1:{server.server_address[1]}"
    listed = [{"name": n, "url": f"{url}/{n}", "size": len(d), "md5": hashlib.md5(d).hexdigest()}
              for n, d in files.items()]
    write_entry(work / "registry", entry_yaml("benchcluster", {"kind": "http", "files": listed}))
    loader.clear_cache()
    total_mib = size * args.files / (1 << 20)
    print(f"{args.files} files x {args.mib:g} MiB = {total_mib:g} MiB; server: {args.cap_mib:g} MiB/s per "
          f"connection, link {args.link_mib:g} MiB/s; {args.threads} threads per worker process; "
          f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
    header = (("workers", 8), ("connections", 12), ("wall s", 8), ("MiB/s", 7), ("speed-up", 9),
              ("ceiling MiB/s", 14))
    print(" ".join(f"{name:>{width}}" for name, width in header))
    first = None
    try:
        for count in args.workers:
            shutil.rmtree(dataset_paths("benchcluster").base, ignore_errors=True)
            with LocalCluster(n_workers=count, threads_per_worker=args.threads, processes=True,
                              dashboard_address=":0") as cluster, Client(cluster) as client:
                client.run(lambda: None)                  # workers up before the clock starts
                started = time.perf_counter()
                report = histodata.fetch("benchcluster", client=client, workers=64, quiet=True)
                wall = time.perf_counter() - started
            assert report.complete and len(report.files) == args.files
            first = first or wall
            connections = count * args.threads
            ceiling = connections * args.cap_mib
            ceiling = min(ceiling, args.link_mib) if args.link_mib > 0 else ceiling
            print(f"{count:>8} {connections:>12} {wall:>8.2f} {total_mib / wall:>7.2f} {first / wall:>8.2f}x "
                  f"{ceiling:>14.2f}")
    finally:
        server.shutdown()
        shutil.rmtree(work, ignore_errors=True)
    print("Scaling follows the connections until their sum reaches the server's link; past that, more "
          "workers only share the link (and on a real cluster: the per-host limit, --workers).")


if __name__ == "__main__":
    main()
