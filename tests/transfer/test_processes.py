"""Real processes: kill -9 and Ctrl-C in the middle, two processes on one target, a full disk."""
from __future__ import annotations

import json
import signal

import pytest
from helpers import finish, start_cli

from .conftest import leftovers, md5, payload, run_cli
from .test_nginx import wait_for_partial

ORIGIN = "https://data.example.org"
DATA = payload(3 << 20, seed=11)


@pytest.fixture
def site(nginx):
    (nginx.root / "a.bin").write_bytes(DATA)
    nginx.fast_env = {"HISTODATA_MIRRORS": f"{ORIGIN}={nginx.url}"}
    nginx.slow_env = {"HISTODATA_MIRRORS": f"{ORIGIN}={nginx.url}/slow"}
    return nginx


def download_args(target, *extra):
    return ("download", f"{ORIGIN}/a.bin", "-o", str(target), "--md5", md5(DATA), "--size", str(len(DATA)),
            "--json", *extra)


def test_kill_9_mid_download_then_next_run_resumes(site, tmp_path):
    target = tmp_path / "out" / "a.bin"
    process = start_cli(*download_args(target), env=site.slow_env)
    kept = wait_for_partial(target.parent, 300_000)
    process.kill()
    finish(process)
    assert not target.exists()
    code, out, err = _run(target, site.fast_env)
    assert code == 0, err
    report = json.loads(out)
    assert report["resumed_from"] >= kept and report["verified"] == ["md5"]
    assert target.read_bytes() == DATA
    last = site.requests()[-1]
    assert last["status"] == 206 and last["if_range"] and last["range"] == f"bytes={report['resumed_from']}-"
    assert leftovers(target.parent) == ["a.bin"]


def _run(target, env):
    result = run_cli(*download_args(target), env=env)
    return result.returncode, result.stdout, result.stderr


def test_ctrl_c_keeps_the_partial_and_says_how_to_resume(site, tmp_path):
    target = tmp_path / "out" / "a.bin"
    process = start_cli(*download_args(target), env=site.slow_env)
    wait_for_partial(target.parent, 200_000)
    process.send_signal(signal.SIGINT)
    code, _out, err = finish(process)
    assert code == 130 and "run the same command again to resume" in err
    assert "Traceback" not in err
    assert not target.exists() and any(n.endswith(".partial") for n in leftovers(target.parent))
    code, out, err = _run(target, site.fast_env)
    assert code == 0 and json.loads(out)["resumed_from"] >= 200_000


def test_two_processes_on_one_target_both_end_with_a_correct_file(site, tmp_path):
    small = DATA[:600_000]
    (site.root / "c.bin").write_bytes(small)
    target = tmp_path / "out" / "c.bin"
    args = ("download", f"{ORIGIN}/c.bin", "-o", str(target), "--md5", md5(small), "--json")
    first = start_cli(*args, env=site.slow_env)
    wait_for_partial(target.parent, 100_000)
    second = start_cli(*args, env=site.fast_env)
    (code1, out1, err1), (code2, out2, err2) = finish(first), finish(second)
    assert code1 == 0 and code2 == 0, err1 + err2
    assert json.loads(out1)["hashes"]["md5"] == json.loads(out2)["hashes"]["md5"] == md5(small)
    assert "waiting for another histodata process" in err2
    assert target.read_bytes() == small
    assert leftovers(target.parent) == ["c.bin"]


def test_a_write_failure_keeps_no_file_under_the_final_name_and_the_next_run_recovers(site, tmp_path):
    target = tmp_path / "out" / "a.bin"
    process = start_cli(*download_args(target), env=site.fast_env, max_file_size=1_000_000)
    code, _out, err = finish(process)
    assert code == 1 and "disk full" in err and "run the same command again to resume" in err
    assert "Traceback" not in err
    assert not target.exists()
    code, out, err = _run(target, site.fast_env)
    assert code == 0, err
    assert json.loads(out)["resumed_from"] > 0 and target.read_bytes() == DATA
