"""Segmented downloads, measured in one run against a local nginx (no network).

1. 512 MiB from nginx limiting each connection to 24 MB/s, md5 checked by every contender:
   `histodata download --md5` (default: up to 8 connections) vs `aria2c -x8 && md5sum` (target:
   at most 1.2x its time; aria2 then splits in 5, so `aria2c -x8 -s8` is shown too) and vs
   `curl && md5sum` (target: at least 4x faster).
2. 1 GiB over unthrottled loopback: `histodata download` vs `curl && md5sum` (target: at most 1.05x),
   with `histodata download --connections 1` (one stream, the engine before segments) alongside.
3. Peak RSS of the `histodata download` process (target: below 150 MB).
4. SIGKILL of a segmented download at 50 %, then a rerun: the bytes nginx sent over both runs beyond
   the file's size (target: at most 15 % extra).

Every contender writes to the same disk and checks the same md5. aria2 is installed with apt-get
when missing. Each contender runs `--repeat` times, alternating, and the best wall time counts.

    python benchmarks/bench_segments.py [--throttled-mib 512] [--loopback-mib 1024] [--repeat 2]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_download import timed_process, write_random_file  # noqa: E402
from servers.nginx import NginxServer  # noqa: E402  (bench_download put tests/ on the path)

RATE = 24_000_000                 # bytes per second and connection (nginx limit_rate)
TARGET_ARIA2_RATIO, TARGET_CURL_SPEEDUP = 1.2, 4.0
TARGET_LOOPBACK_RATIO, TARGET_RSS_MB, TARGET_EXTRA = 1.05, 150, 0.15


def ensure_aria2() -> None:
    if shutil.which("aria2c"):
        return
    print("installing aria2 (apt-get install -y aria2) ...", file=sys.stderr)
    subprocess.run(["apt-get", "install", "-y", "aria2"], check=True, stdout=subprocess.DEVNULL)


def clean(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)


def histodata_argv(url: str, target: Path, md5: str) -> list[str]:
    return [sys.executable, "-m", "histodata", "download", url, "-o", str(target), "--md5", md5, "--quiet"]


def contenders(url: str, out: Path, md5: str, names) -> dict:
    """{name: shell command or argv}: each downloads `url` into `out` and checks the md5."""
    check = f"md5sum {out}/f.bin | grep -q {md5}"
    table = {
        "histodata": histodata_argv(url, out / "f.bin", md5),
        "histodata --connections 1": [*histodata_argv(url, out / "f.bin", md5), "--connections", "1"],
        "aria2c -x8": (f"aria2c -x8 -q --allow-overwrite=true --file-allocation=none -d {out} -o f.bin {url}"
                       f" && {check}"),
        "aria2c -x8 -s8": (f"aria2c -x8 -s8 -q --allow-overwrite=true --file-allocation=none -d {out} "
                           f"-o f.bin {url} && {check}"),
        "curl": f"curl -s -o {out}/f.bin {url} && {check}",
    }
    return {name: table[name] for name in names}


def race(url: str, out: Path, md5: str, names, repeat: int) -> tuple[dict, dict, int]:
    """(best wall seconds, CPU seconds of that run, peak RSS of histodata) per contender."""
    best = dict.fromkeys(names, float("inf"))
    cpu, rss = dict(best), 0
    for _ in range(repeat):
        for name, command in contenders(url, out, md5, names).items():
            clean(out)
            seconds, used, peak = timed_process(command, shell=isinstance(command, str))
            if name.startswith("histodata"):
                rss = max(rss, peak)
            if seconds < best[name]:
                best[name], cpu[name] = seconds, used
    return best, cpu, rss


def recorded(folder: Path) -> tuple[int, int]:
    """(bytes recorded as written, file size) from the partial's state in `folder`, or (0, 0)."""
    for sidecar in folder.glob(".*.partial.json"):
        try:
            state = json.loads(sidecar.read_text())
        except (OSError, ValueError):
            continue
        pieces = state.get("segments") or []
        return sum(p[2] for p in pieces), state.get("total") or 0
    return 0, 0


def kill_and_resume(nginx: NginxServer, url: str, out: Path, md5: str, size: int) -> dict:
    """SIGKILL at 50 %, rerun; the bytes nginx sent in all beyond `size`."""
    clean(out)
    before = len(nginx.requests())
    process = subprocess.Popen(histodata_argv(url, out / "f.bin", md5), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while recorded(out)[0] < size // 2 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.01)
    kept_at_kill = recorded(out)[0]
    process.send_signal(signal.SIGKILL)
    process.wait()
    time.sleep(1.0)                      # nginx logs a request when its connection closes
    first_run = sum(r["bytes_sent"] for r in nginx.requests()[before:])
    middle = len(nginx.requests())
    seconds, _cpu, _rss = timed_process(histodata_argv(url, out / "f.bin", md5))
    time.sleep(0.5)
    second_run = sum(r["bytes_sent"] for r in nginx.requests()[middle:])
    return {"kept_at_kill": kept_at_kill, "first_run": first_run, "second_run": second_run,
            "extra": (first_run + second_run - size) / size, "rerun_seconds": seconds}


def frontier_cost(url: str, out: Path, md5: str, size: int) -> dict:
    """In this process: how long after the last byte the digests' input was complete (the frontier's
    tail), and how long reading the whole file back from the page cache takes (its extra copy)."""
    import logging

    from histodata.transfer import download

    tails: list[float] = []

    class Catch(logging.Handler):
        def emit(self, record):
            if "hashes ready" in record.msg:
                tails.append(record.args[-1])

    logger = logging.getLogger("histodata.transfer.segments")
    logger.addHandler(Catch())
    logger.setLevel(logging.DEBUG)
    clean(out)
    start = time.perf_counter()
    download(url, out / "f.bin", {"md5": md5}, size, quiet=True)
    wall = time.perf_counter() - start
    start = time.perf_counter()
    with open(out / "f.bin", "rb") as handle:
        while handle.read(1 << 20):
            pass
    reread = time.perf_counter() - start
    return {"tail": tails[-1] if tails else float("nan"), "wall": wall, "reread": reread}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--throttled-mib", type=int, default=512)
    parser.add_argument("--loopback-mib", type=int, default=1024)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--tmp", default="/tmp", help="where the test files are written (then deleted)")
    args = parser.parse_args()
    ensure_aria2()
    for tool in ("curl", "md5sum", "aria2c"):
        if not shutil.which(tool):
            sys.exit(f"{tool} is needed for the comparison")
    load_before = os.getloadavg()[0]
    work = Path(tempfile.mkdtemp(prefix="histodata-bench-segments-", dir=args.tmp))
    try:
        www, out = work / "www", work / "out"
        www.mkdir()
        print(f"writing test files under {work} ...", file=sys.stderr)
        throttled_md5 = write_random_file(www / "throttled.bin", args.throttled_mib << 20)
        loopback_md5 = write_random_file(www / "loopback.bin", args.loopback_mib << 20)
        with NginxServer(www, slow_rate=RATE) as nginx:
            slow = nginx.slow_url_for("throttled.bin")
            throttled = race(slow, out, throttled_md5, ("histodata", "aria2c -x8", "aria2c -x8 -s8", "curl"),
                             args.repeat)
            loopback = race(nginx.url_for("loopback.bin"), out, loopback_md5,
                            ("histodata", "histodata --connections 1", "curl"), args.repeat)
            killed = kill_and_resume(nginx, slow, out, throttled_md5, args.throttled_mib << 20)
            killed["frontier"] = frontier_cost(slow, out, throttled_md5, args.throttled_mib << 20)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report(args, throttled, loopback, killed)
    print(f"load average before/after: {load_before:.1f} / {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


def verdict(ok: bool) -> str:
    return "OK" if ok else "MISSED"


def report(args, throttled, loopback, killed) -> None:
    (best, cpu, rss), (lbest, lcpu, lrss) = throttled, loopback
    mib = args.throttled_mib
    print(f"{mib} MiB from nginx at {RATE / 1e6:.0f} MB/s per connection, md5 checked "
          f"(best of {args.repeat}):")
    for name in best:
        print(f"  {name:<22} {best[name]:7.2f} s  ({mib / best[name]:6.0f} MiB/s)  cpu {cpu[name]:.2f} s")
    to_aria2 = best["histodata"] / best["aria2c -x8"]
    over_curl = best["curl"] / best["histodata"]
    to_split8 = best["histodata"] / best["aria2c -x8 -s8"]
    print(f"  histodata / (aria2c -x8 && md5sum) = {to_aria2:.2f}x (target <= {TARGET_ARIA2_RATIO}x) "
          f"{verdict(to_aria2 <= TARGET_ARIA2_RATIO)}")
    print(f"  histodata / (aria2c -x8 -s8 && md5sum) = {to_split8:.2f}x (8 connections for aria2 too; "
          "for information)")
    print(f"  (curl && md5sum) / histodata       = {over_curl:.2f}x faster "
          f"(target >= {TARGET_CURL_SPEEDUP}x) "
          f"{verdict(over_curl >= TARGET_CURL_SPEEDUP)}")
    lmib = args.loopback_mib
    ratio = lbest["histodata"] / lbest["curl"]
    print(f"{lmib} MiB over unthrottled loopback nginx:")
    for name in lbest:
        print(f"  {name:<22} {lbest[name]:7.2f} s  ({lmib / lbest[name]:6.0f} MiB/s)  cpu {lcpu[name]:.2f} s")
    print(f"  histodata / (curl && md5sum) = {ratio:.2f}x (target <= {TARGET_LOOPBACK_RATIO}x) "
          f"{verdict(ratio <= TARGET_LOOPBACK_RATIO)}")
    single = lbest["histodata --connections 1"] / lbest["curl"]
    print(f"  histodata --connections 1 (one stream, as before) / (curl && md5sum) = {single:.2f}x")
    peak = max(rss, lrss) / 1e6
    print(f"peak RSS of histodata download: {peak:.1f} MB (target < {TARGET_RSS_MB} MB) "
          f"{verdict(peak < TARGET_RSS_MB)}")
    print(f"SIGKILL at {killed['kept_at_kill'] / (mib << 20):.0%} recorded, then a rerun "
          f"({killed['rerun_seconds']:.2f} s): nginx sent {killed['first_run'] + killed['second_run']} bytes "
          f"for {mib << 20}: {killed['extra']:.1%} extra (target <= {TARGET_EXTRA:.0%}) "
          f"{verdict(killed['extra'] <= TARGET_EXTRA)}")
    frontier = killed["frontier"]
    print(f"hash frontier (in-process, {mib} MiB throttled, {frontier['wall']:.2f} s): "
          f"digests' input complete "
          f"{frontier['tail'] * 1000:.0f} ms after the last byte; its read-back of the whole file from the "
          f"page cache costs about {frontier['reread']:.2f} s of copying, spread over the download")


if __name__ == "__main__":
    main()
