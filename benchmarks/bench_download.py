"""Download engine benchmarks, measured in one run against local servers (no network).

1. One large file (default 1 GiB) over loopback nginx with an md5 check:
   `histodata download --md5` vs `curl -o f && md5sum f` (target: at most 1.1x) and vs
   `pooch.retrieve(known_hash="md5:...")` (the speedup is reported).
2. Peak RSS of the `histodata download` process during that download (target: below 150 MB).
3. 500 files of 256 KiB from a server adding 50 ms per request: `download_many` vs a loop of
   `download` (target: at least 5x faster).

Each contender runs `--repeat` times (alternating) and the best time counts. The large file is
written under /tmp (or --tmp) and deleted afterwards. Needs nginx and curl.

    python benchmarks/bench_download.py [--size-mib 1024] [--files 500] [--repeat 2]
"""
from __future__ import annotations

import argparse
import hashlib
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))  # the reusable test servers

from servers.faults import running  # noqa: E402
from servers.nginx import NginxServer  # noqa: E402

TARGET_CURL_RATIO = 1.1
TARGET_RSS_MB = 150
TARGET_PARALLEL_SPEEDUP = 5.0


def write_random_file(path: Path, size: int) -> str:
    """Incompressible bytes; returns their md5."""
    digest = hashlib.md5()
    block = os.urandom(8 << 20)
    with open(path, "wb") as out:
        written = 0
        while written < size:
            piece = block[: min(len(block), size - written)]
            piece = hashlib.sha256(written.to_bytes(8, "little")).digest() + piece[32:]  # no repeats
            out.write(piece)
            digest.update(piece)
            written += len(piece)
    return digest.hexdigest()


def timed_process(argv: list[str], shell: bool = False) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds of the process and its children, peak RSS in bytes)."""
    start = time.perf_counter()
    process = subprocess.Popen(argv, shell=shell, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _pid, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    stderr = process.stderr.read().decode() if process.stderr else ""
    if process.returncode != 0:
        raise RuntimeError(f"{argv} failed: {stderr}")
    children = resource.getrusage(resource.RUSAGE_CHILDREN)  # includes curl and md5sum under the shell
    cpu = usage.ru_utime + usage.ru_stime
    if shell:
        cpu = children.ru_utime + children.ru_stime - timed_process.children_cpu
    timed_process.children_cpu = children.ru_utime + children.ru_stime
    return elapsed, cpu, usage.ru_maxrss * 1024


timed_process.children_cpu = 0.0


def bench_large_file(work: Path, size_mib: int, repeat: int) -> dict:
    www = work / "www"
    www.mkdir()
    print(f"writing a {size_mib} MiB test file under {work} ...", file=sys.stderr)
    expected_md5 = write_random_file(www / "big.bin", size_mib << 20)
    out = work / "out"
    out.mkdir()
    pooch_script = ("import pooch,sys; pooch.retrieve(sys.argv[1], known_hash='md5:'+sys.argv[2], "
                    "fname='pooch.bin', path=sys.argv[3], progressbar=False)")
    best = {"curl": float("inf"), "histodata": float("inf"), "pooch": float("inf")}
    cpu = dict(best)
    rss = 0
    with NginxServer(www) as nginx:
        url = nginx.url_for("big.bin")
        for _ in range(repeat):
            for name in best:
                for leftover in out.iterdir():
                    leftover.unlink()
                if name == "curl":
                    target = out / "curl.bin"
                    seconds, used, _ = timed_process(
                        f"curl -s -o {target} {url} && md5sum {target} | grep -q {expected_md5}", shell=True)
                elif name == "histodata":
                    argv = [sys.executable, "-m", "histodata", "download", url, "-o", str(out / "h.bin"),
                            "--md5", expected_md5, "--quiet"]
                    seconds, used, peak = timed_process(argv)
                    rss = max(rss, peak)
                else:
                    argv = [sys.executable, "-c", pooch_script, url, expected_md5, str(out)]
                    seconds, used, _ = timed_process(argv)
                best[name] = min(best[name], seconds)
                cpu[name] = min(cpu[name], used)
    return {"size_mib": size_mib, **best, "rss": rss, "cpu": cpu}


def bench_many_files(work: Path, count: int, workers: int) -> dict:
    from histodata.transfer import DownloadTask, download, download_many

    data = os.urandom(256 << 10)
    md5 = hashlib.md5(data).hexdigest()
    with running(delay=0.05) as server:
        urls = [server.add(f"/f{i}.bin", data) for i in range(count)]

        def tasks(folder: str) -> list[DownloadTask]:
            return [DownloadTask(url, work / folder / f"f{i}.bin", {"md5": md5}, len(data))
                    for i, url in enumerate(urls)]

        start = time.perf_counter()
        for task in tasks("sequential"):
            download(task.url, task.path, task.checksums, task.size, quiet=True)
        sequential = time.perf_counter() - start
        start = time.perf_counter()
        download_many(tasks("parallel"), workers=workers, per_host=workers, quiet=True)
        parallel = time.perf_counter() - start
    return {"count": count, "workers": workers, "sequential": sequential, "parallel": parallel}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--files", type=int, default=500)
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--tmp", default="/tmp", help="where the large test file is written (then deleted)")
    args = parser.parse_args()
    for tool in ("curl", "md5sum"):
        if not shutil.which(tool):
            sys.exit(f"{tool} is needed for the comparison")
    load_before = os.getloadavg()[0]
    work = Path(tempfile.mkdtemp(prefix="histodata-bench-", dir=args.tmp))
    try:
        large = bench_large_file(work, args.size_mib, args.repeat)
        many = bench_many_files(work, args.files, args.workers)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report(large, many)
    print(f"load average before/after: {load_before:.1f} / {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs "
          "(other work on the machine slows the CPU-bound hashing; compare the cpu columns too)")


def report(large: dict, many: dict) -> None:
    ratio = large["histodata"] / large["curl"]
    speedup_pooch = large["pooch"] / large["histodata"]
    rss_mb = large["rss"] / 1e6
    parallel = many["sequential"] / many["parallel"]
    mib = large["size_mib"]
    print(f"{mib} MiB over loopback nginx, md5 checked (best of runs):")
    print(f"  curl -o f && md5sum f   {large['curl']:7.2f} s  ({mib / large['curl']:6.0f} MiB/s)"
          f"  cpu {large['cpu']['curl']:.2f} s")
    print(f"  histodata download      {large['histodata']:7.2f} s  ({mib / large['histodata']:6.0f} MiB/s)"
          f"  cpu {large['cpu']['histodata']:.2f} s  ratio to curl {ratio:.2f}x "
          f"(target <= {TARGET_CURL_RATIO}x) "
          f"{'OK' if ratio <= TARGET_CURL_RATIO else 'MISSED'}")
    print(f"  pooch.retrieve          {large['pooch']:7.2f} s  ({mib / large['pooch']:6.0f} MiB/s)"
          f"  cpu {large['cpu']['pooch']:.2f} s  histodata is {speedup_pooch:.2f}x faster")
    print(f"  peak RSS of histodata   {rss_mb:7.1f} MB (target < {TARGET_RSS_MB} MB) "
          f"{'OK' if rss_mb < TARGET_RSS_MB else 'MISSED'}")
    print(f"{many['count']} files x 256 KiB, +50 ms per request:")
    print(f"  one by one              {many['sequential']:7.2f} s")
    print(f"  download_many({many['workers']:>2} workers) {many['parallel']:7.2f} s  speedup {parallel:.1f}x "
          f"(target >= {TARGET_PARALLEL_SPEEDUP}x) "
          f"{'OK' if parallel >= TARGET_PARALLEL_SPEEDUP else 'MISSED'}")


if __name__ == "__main__":
    main()
