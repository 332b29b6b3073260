"""Real `histodata fetch` processes: two at once on one dataset, `kill -9` in the middle, and a
write failure (RLIMIT_FSIZE in the child: writes past the limit fail with EFBIG, as on a full
disk) while downloading and while extracting. No partial file ever sits under a final name, and
the next run recovers."""
from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import zipfile

import pytest
from helpers import finish, run_cli, start_cli
from transfer.test_nginx import wait_for_partial

from histodata.layout import dataset_paths, read_record

from .hostile import ORIGIN, PNG

BIG = os.urandom(1_500_000)
HEX = os.urandom(1_500_000).hex().encode()      # 3 MB that deflate to about half




def tiles_zip(extra: bytes = b"") -> bytes:
    """A folder-per-class zip; `extra` becomes one more image, to make extraction write a lot."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("tiles/tumor/a.png", PNG)
        zf.writestr("tiles/normal/b.png", PNG)
        if extra:
            zf.writestr("tiles/normal/big.png", extra)
    return buffer.getvalue()


def start_fetch(dataset_id: str, env: dict, limit: int | None = None) -> subprocess.Popen:
    """`histodata fetch ID --json` in a new process; with `limit`, no file it writes may grow past
    that many bytes (as on a full disk)."""
    return start_cli("fetch", dataset_id, "--json", env=env, max_file_size=limit)


def final_names(raw) -> list[str]:
    """Files under raw/ that are not the engine's hidden partials, sidecars and locks."""
    return sorted(p.relative_to(raw).as_posix() for p in raw.rglob("*") if p.is_file() and not p.name.startswith("."))


@pytest.fixture
def slow_and_fast(site):
    """Environments that reach the site throttled (256 KB/s) or at full speed."""
    return ({"HISTODATA_MIRRORS": f"{ORIGIN}={site.server.url}/slow"},
            {"HISTODATA_MIRRORS": f"{ORIGIN}={site.server.url}"})


def assert_correct_dataset(dataset_id: str, files: dict[str, bytes]) -> None:
    paths = dataset_paths(dataset_id)
    record = read_record(paths)
    assert record["fetch"]["complete"] is True
    for name, data in files.items():
        assert paths.raw_file(name).read_bytes() == data
        assert record["files"][name]["sha256"] == hashlib.sha256(data).hexdigest()
    assert final_names(paths.raw) == sorted(files)
    everything = sorted(p.relative_to(paths.raw).as_posix() for p in paths.raw.rglob("*") if p.is_file())
    assert everything == sorted(files)
    assert not (paths.base / ".partial").exists()                  # no bookkeeping left behind
    assert record["standardized"]["samples"] >= 2 and paths.manifest.exists()
    assert list(paths.base.rglob(".extract-*")) == [] and list(paths.base.rglob("*.partial")) == []


def test_two_fetch_processes_of_one_dataset_both_end_with_a_correct_dataset(site, slow_and_fast):
    slow, _fast = slow_and_fast
    files = {"tiles.zip": tiles_zip(), "slides/big.bin": BIG[:700_000]}
    site.entry("together", files)
    paths = dataset_paths("together")
    first = start_fetch("together", slow)
    try:
        wait_for_partial(paths.base / ".partial" / "slides", 100_000)   # bookkeeping stays out of raw/
        second = start_fetch("together", slow)
        (code1, out1, err1), (code2, out2, err2) = finish(first), finish(second)
    finally:
        for process in (first, locals().get("second")):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()
    assert code1 == 0 and code2 == 0, err1 + err2
    assert "waiting for it to finish" in err2
    assert json.loads(out1)["complete"] and json.loads(out2)["complete"]
    assert_correct_dataset("together", files)


def test_kill_9_mid_fetch_leaves_no_final_name_and_the_next_run_resumes(site, slow_and_fast):
    slow, fast = slow_and_fast
    files = {"tiles.zip": tiles_zip(), "slides/big.bin": BIG}
    site.entry("killed", files)
    paths = dataset_paths("killed")
    process = start_fetch("killed", slow)
    kept = wait_for_partial(paths.base / ".partial" / "slides", 300_000)
    process.kill()
    finish(process)
    assert not paths.raw_file("slides/big.bin").exists()
    assert not paths.manifest.exists()
    result = run_cli("fetch", "killed", "--json", env=fast)
    assert result.returncode == 0, result.stderr
    assert_correct_dataset("killed", files)
    ranges = [r["range"] for r in site.server.requests() if r["uri"].endswith("big.bin") and r["range"]]
    assert ranges and int(ranges[-1].split("=")[1].rstrip("-")) >= kept // 2     # resumed, not restarted


def test_a_write_failure_while_downloading_keeps_no_final_name_and_the_next_run_recovers(site, slow_and_fast):
    _slow, fast = slow_and_fast
    files = {"tiles.zip": tiles_zip(), "slides/big.bin": BIG}
    site.entry("full-disk", files)
    paths = dataset_paths("full-disk")
    code, out, err = finish(start_fetch("full-disk", fast, limit=1_000_000))
    assert code == 1 and json.loads(out)["error"]["exit_code"] == 1 and "Traceback" not in err
    assert "disk full" in err or "No space" in err or "too large" in err.lower(), err
    assert not paths.raw_file("slides/big.bin").exists()
    result = run_cli("fetch", "full-disk", "--json", env=fast)
    assert result.returncode == 0, result.stderr
    assert_correct_dataset("full-disk", files)


def test_a_write_failure_while_extracting_keeps_nothing_half_extracted_and_the_next_run_recovers(
        site, slow_and_fast):
    _slow, fast = slow_and_fast
    files = {"tiles.zip": tiles_zip(extra=HEX)}      # a 1.7 MB download holding a 3 MB member
    site.entry("full-extract", files)
    paths = dataset_paths("full-extract")
    code, out, err = finish(start_fetch("full-extract", fast, limit=2_000_000))
    assert code == 1 and json.loads(out)["error"]["exit_code"] == 1 and "Traceback" not in err, err
    error = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(error) == 1 and "tiles.zip" in error[0] and "disk is full" in error[0], err
    assert paths.raw_file("tiles.zip").read_bytes() == files["tiles.zip"]   # the download itself was fine
    assert not paths.images.exists() or [p for p in paths.images.rglob("*") if p.is_file()] == []
    assert list(paths.base.rglob(".extract-*")) == [] and not paths.manifest.exists()
    result = run_cli("fetch", "full-extract", "--json", env=fast)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["standardized"]
    assert (paths.images / "tiles" / "normal" / "big.png").read_bytes() == HEX
    assert_correct_dataset("full-extract", files)


def many_tiles_zip(count: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as zf:
        for i in range(count):
            zf.writestr(f"tiles/{('tumor', 'normal')[i % 2]}/{i:05d}.png", PNG)
    return buffer.getvalue()


def test_two_processes_standardizing_one_downloaded_dataset_both_succeed(site, slow_and_fast):
    _slow, fast = slow_and_fast
    files = {"tiles.zip": many_tiles_zip(1500)}     # enough members that the two extractions may overlap
    site.entry("standardize-twice", files)
    first = run_cli("fetch", "standardize-twice", "--no-standardize", env=fast)
    assert first.returncode == 0, first.stderr
    processes = [start_fetch("standardize-twice", fast) for _ in range(2)]
    results = [finish(p) for p in processes]
    for code, _out, err in results:
        assert code == 0, err
    record = read_record(dataset_paths("standardize-twice"))
    assert record["standardized"]["samples"] == 1500
    assert_correct_dataset("standardize-twice", files)
