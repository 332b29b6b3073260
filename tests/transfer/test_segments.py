"""One large file over several connections: pieces with Range + If-Range, written at their offsets,
hashed in one pass, resumed piece by piece, and never a file stitched from two versions."""
from __future__ import annotations

import json
import signal
import time

import pytest
from helpers import finish, start_cli
from servers.faults import running

from histodata.errors import ChecksumError, DownloadError
from histodata.transfer import DownloadTask, download, download_many

from .conftest import leftovers, md5, payload, run_cli, sha256

DATA = payload(3 << 20, seed=16)      # 3 MiB: 12 pieces of 256 KiB with 4 connections
PIECE = 256 << 10


@pytest.fixture(autouse=True)
def small_threshold(monkeypatch):
    """Files from 1 MiB on are segmented (the production threshold is larger)."""
    monkeypatch.setenv("HISTODATA_SEGMENT_MIN", str(1 << 20))


@pytest.fixture
def busy_server():
    """The fault server answering each request after 50 ms, so parallel requests overlap."""
    with running(delay=0.05) as server:
        yield server


def fetch(server, tmp_path, script=(), *, data=DATA, checksums=None, connections=4, **options):
    url = server.add("/big.bin", data, script, **options)
    return download(url, tmp_path / "out" / "big.bin", {"md5": md5(data)} if checksums is None else checksums,
                    len(data), quiet=True, connections=connections)


def ranges(server) -> list[str]:
    return [entry["headers"].get("Range", "") for entry in server.requests_for("/big.bin")]


def test_a_large_file_comes_over_several_connections_each_range_guarded(busy_server, tmp_path):
    result = fetch(busy_server, tmp_path)
    assert (tmp_path / "out" / "big.bin").read_bytes() == DATA
    assert result.hashes == {"md5": md5(DATA), "sha256": sha256(DATA)} and result.verified == ["md5"]
    first, *pieces = busy_server.requests_for("/big.bin")
    assert "Range" not in first["headers"]                     # the first answer tells: ranges, size
    assert len(pieces) == len(DATA) // PIECE - 1
    assert all(p["headers"]["If-Range"] == '"v1"' for p in pieces)
    starts = sorted(int(p["headers"]["Range"][6:].split("-")[0]) for p in pieces)
    assert starts == list(range(PIECE, len(DATA), PIECE))
    assert busy_server.max_active == 4
    assert leftovers(tmp_path / "out") == ["big.bin"]


def test_one_connection_streams_the_file(busy_server, tmp_path):
    fetch(busy_server, tmp_path, connections=1)
    assert ranges(busy_server) == [""]
    assert (tmp_path / "out" / "big.bin").read_bytes() == DATA


def test_files_below_the_threshold_and_servers_without_ranges_take_one_stream(busy_server, tmp_path,
                                                                               monkeypatch):
    monkeypatch.setenv("HISTODATA_SEGMENT_MIN", str(len(DATA) + 1))
    fetch(busy_server, tmp_path)
    assert ranges(busy_server) == [""]


def test_no_validator_and_no_checksum_no_segments(busy_server, tmp_path):
    fetch(busy_server, tmp_path, validators=False, checksums={})   # nothing would notice a change
    assert ranges(busy_server) == [""]
    assert (tmp_path / "out" / "big.bin").read_bytes() == DATA


def test_without_validators_an_expected_checksum_vouches_for_the_pieces(busy_server, tmp_path):
    fetch(busy_server, tmp_path, validators=False)                 # the GDC, Girder: md5 known
    asked = busy_server.requests_for("/big.bin")
    assert len(asked) == len(DATA) // PIECE and not any("If-Range" in r["headers"] for r in asked)
    assert (tmp_path / "out" / "big.bin").read_bytes() == DATA


def test_a_server_that_keeps_ignoring_ranges_gets_one_stream(busy_server, tmp_path):
    result = fetch(busy_server, tmp_path, ["ok"] + ["ignore-range"] * 8)
    assert (tmp_path / "out" / "big.bin").read_bytes() == DATA and result.hashes["md5"] == md5(DATA)
    assert ranges(busy_server)[-1] == ""                          # started again, one connection


@pytest.mark.parametrize("fault", ["drop:1000", "truncate:5000", "ignore-range", "status:503"])
def test_a_failing_segment_is_retried_from_where_it_stopped(busy_server, tmp_path, fault):
    result = fetch(busy_server, tmp_path, ["ok", fault])
    assert (tmp_path / "out" / "big.bin").read_bytes() == DATA and result.hashes["md5"] == md5(DATA)
    asked = ranges(busy_server)
    assert len(asked) == len(DATA) // PIECE + 1                 # the failed piece asked once more
    if fault.startswith(("drop", "truncate")):
        cut = int(fault.split(":")[1])
        assert any(int(r[6:].split("-")[0]) % PIECE == cut for r in asked if r)   # resumed mid-piece


def test_a_stalled_segment_is_retried(busy_server, tmp_path, monkeypatch):
    monkeypatch.setenv("HISTODATA_LOW_SPEED_LIMIT", "100000")
    monkeypatch.setenv("HISTODATA_LOW_SPEED_TIME", "0.5")
    fetch(busy_server, tmp_path, ["ok", "trickle:1000:0.2"])
    assert (tmp_path / "out" / "big.bin").read_bytes() == DATA


@pytest.mark.parametrize("change", ["changed", "changed-range"])
def test_a_file_changing_half_way_restarts_cleanly(busy_server, tmp_path, change):
    """The server answers a segment with another version (a 200 after If-Range, or a 206 naming a new
    ETag): everything restarts from zero; the file saved is the new version whole, never a mix."""
    result = fetch(busy_server, tmp_path, ["ok", "ok", change], checksums={})
    new = busy_server.routes["/big.bin"].data
    assert new != DATA
    assert (tmp_path / "out" / "big.bin").read_bytes() == new and result.hashes["sha256"] == sha256(new)
    assert ranges(busy_server).count("") == 2                    # the first request, then the restart


def test_a_change_half_way_against_the_expected_checksum_saves_nothing(busy_server, tmp_path):
    with pytest.raises(ChecksumError):
        fetch(busy_server, tmp_path, ["ok", "ok", "changed"])
    assert leftovers(tmp_path / "out") == []


def give_up_after_the_first_piece(server, tmp_path):
    with pytest.raises(DownloadError, match="gave up"):
        fetch(server, tmp_path, ["ok"] + ["status:503"] * 40)
    server.routes["/big.bin"].script.clear()
    sidecar = next((tmp_path / "out").glob("*.partial.json"))
    return json.loads(sidecar.read_text())


def test_a_rerun_keeps_the_finished_pieces(busy_server, tmp_path):
    state = give_up_after_the_first_piece(busy_server, tmp_path)
    assert state["segments"][0] == [0, PIECE, PIECE] and state["etag"] == '"v1"'
    before = len(busy_server.requests_for("/big.bin"))
    result = fetch(busy_server, tmp_path)
    assert result.resumed_from == PIECE and (tmp_path / "out" / "big.bin").read_bytes() == DATA
    again = busy_server.requests_for("/big.bin")[before:]
    assert all(r["headers"]["If-Range"] == '"v1"' for r in again)
    assert not any(r["headers"]["Range"].startswith("bytes=0-") for r in again)
    assert leftovers(tmp_path / "out") == ["big.bin"]


def test_a_file_changed_between_runs_restarts_cleanly(busy_server, tmp_path):
    give_up_after_the_first_piece(busy_server, tmp_path)
    before = len(busy_server.requests_for("/big.bin"))
    new = payload(len(DATA), seed=17)
    result = fetch(busy_server, tmp_path, data=new, checksums={}, etag='"v2"',
                   last_modified="Tue, 03 Jan 2023 10:00:00 GMT")
    assert (tmp_path / "out" / "big.bin").read_bytes() == new and result.resumed_from == 0
    assert ranges(busy_server)[before:].count("") == 1          # one plain GET: the restart


def test_connections_count_against_the_host_limit(busy_server, tmp_path):
    tasks = []
    for number in range(3):
        data = payload(len(DATA), seed=20 + number)
        url = busy_server.add(f"/f{number}.bin", data)
        tasks.append(DownloadTask(url, tmp_path / "out" / f"f{number}.bin", {"md5": md5(data)}, len(data)))
    download_many(tasks, workers=3, quiet=True, connections=4)
    assert busy_server.max_active <= 4                  # not 3 files x 4 connections
    assert any(entry["headers"].get("Range") for entry in busy_server.log)   # yet segments were used
    assert all(md5(t.path.read_bytes()) == t.checksums["md5"] for t in tasks)


def test_polite_hosts_get_fewer_connections(busy_server, tmp_path, monkeypatch):
    monkeypatch.setenv("HISTODATA_MIRRORS", f"https://figshare.com={busy_server.url}")
    busy_server.add("/big.bin", DATA)
    download("https://figshare.com/big.bin", tmp_path / "out" / "big.bin", {"md5": md5(DATA)}, quiet=True,
             connections=8)
    assert busy_server.max_active == 2
    assert (tmp_path / "out" / "big.bin").read_bytes() == DATA


# -- real processes against nginx (real ranges, a per-connection rate limit) ----------------------
ORIGIN = "https://slides.example.org"


@pytest.fixture
def site(nginx):
    (nginx.root / "big.bin").write_bytes(DATA)
    nginx.fast_env = {"HISTODATA_MIRRORS": f"{ORIGIN}={nginx.url}", "HISTODATA_SEGMENT_MIN": str(1 << 20)}
    nginx.slow_env = {**nginx.fast_env, "HISTODATA_MIRRORS": f"{ORIGIN}={nginx.url}/slow"}
    return nginx


def cli_args(target, *extra):
    return ("download", f"{ORIGIN}/big.bin", "-o", str(target), "--md5", md5(DATA), "--json",
            "--connections", "4", *extra)


def recorded_bytes(folder, at_least: int, timeout: float = 30.0) -> int:
    """Wait until a partial's state records `at_least` bytes written; returns them."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for sidecar in folder.glob("*.partial.json") if folder.is_dir() else []:
            try:
                done = sum(piece[2] for piece in json.loads(sidecar.read_text()).get("segments") or [])
            except (OSError, ValueError):
                continue
            if done >= at_least:
                return done
        time.sleep(0.02)
    raise AssertionError(f"no partial recording {at_least} bytes in {folder}")


def test_kill_9_mid_segmented_download_then_rerun_keeps_the_pieces(site, tmp_path):
    target = tmp_path / "out" / "big.bin"
    process = start_cli(*cli_args(target), env=site.slow_env)
    kept = recorded_bytes(target.parent, 600_000)
    process.kill()
    finish(process)
    result = run_cli(*cli_args(target), env=site.fast_env)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["resumed_from"] >= kept and target.read_bytes() == DATA
    # The rerun's requests: the killed run used only the throttled /slow/ path, whose log lines
    # nginx may write late (when it notices the dead connection), so they are told apart by path.
    again = [r for r in site.requests() if not r["uri"].startswith("/slow/")]
    assert again and all(r["status"] == 206 and r["if_range"] and r["range"] for r in again)
    assert sum(r["bytes_sent"] for r in again) == len(DATA) - report["resumed_from"]
    assert leftovers(target.parent) == ["big.bin"]


def test_ctrl_c_mid_segmented_download_keeps_the_pieces(site, tmp_path):
    target = tmp_path / "out" / "big.bin"
    process = start_cli(*cli_args(target), env=site.slow_env)
    recorded_bytes(target.parent, 400_000)
    process.send_signal(signal.SIGINT)
    code, _out, err = finish(process)
    assert code == 130 and "run the same command again to resume" in err and "Traceback" not in err
    kept = recorded_bytes(target.parent, 400_000, timeout=1)
    result = run_cli(*cli_args(target), env=site.fast_env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["resumed_from"] >= kept and target.read_bytes() == DATA


def test_disk_full_mid_segmented_download_keeps_the_pieces_then_resumes(site, tmp_path):
    target = tmp_path / "out" / "big.bin"
    code, _out, err = finish(start_cli(*cli_args(target), env=site.fast_env, max_file_size=1_500_000))
    assert code == 1 and "disk full" in err and "run the same command again to resume" in err
    assert "Traceback" not in err and not target.exists()
    result = run_cli(*cli_args(target), env=site.fast_env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["resumed_from"] > 0 and target.read_bytes() == DATA


def test_connections_1_on_the_command_line_streams_one_connection(site, tmp_path):
    target = tmp_path / "out" / "big.bin"
    result = run_cli(*cli_args(target)[:-2], "--connections", "1", env=site.fast_env)
    assert result.returncode == 0, result.stderr
    assert [r["range"] for r in site.requests()] == [""] and target.read_bytes() == DATA
    result = run_cli(*cli_args(tmp_path / "again.bin"), env=site.fast_env)
    assert len(site.requests()) == 1 + len(DATA) // PIECE


def test_connections_must_be_positive(site, tmp_path):
    result = run_cli(*cli_args(tmp_path / "x.bin")[:-2], "--connections", "0", env=site.fast_env)
    assert result.returncode == 2 and "at least 1" in result.stderr


# -- the kinds: every HTTP source goes through the same engine ----------------------------------
@pytest.mark.parametrize("connections, segmented", [(None, True), (1, False)])
def test_fetch_of_an_s3_source_uses_segments_unless_told_one_connection(emulate, extra_registry, connections,
                                                                        segmented):
    from emulators.entries import entry_yaml
    from emulators.s3 import S3Emulator

    import histodata
    from histodata.layout import dataset_paths

    bucket = emulate(S3Emulator(bucket="slides", region="us-east-1"))
    bucket.objects["WSI/slide.svs"] = DATA
    extra_registry(entry_yaml("s3-slides", {"kind": "s3", "bucket": "slides", "region": "us-east-1",
                                            "prefix": "WSI/"}))
    histodata.fetch("s3-slides", quiet=True, standardize=False, connections=connections)
    assert dataset_paths("s3-slides").raw_file("WSI/slide.svs").read_bytes() == DATA
    pieces = [r for r in bucket.server.requests if r.path.endswith("slide.svs") and r.headers.get("range")]
    assert bool(pieces) is segmented
    assert all(r.headers.get("if-range") == f'"{md5(DATA)}"' for r in pieces)


def test_fetch_of_gdc_slides_uses_segments_vouched_for_by_the_md5(emulate):
    """The GDC names no ETag: the md5 from its listing lets the pieces come over several connections."""
    from emulators.gdc import GDCEmulator

    import histodata
    from histodata.layout import dataset_paths

    api = emulate(GDCEmulator())
    api.add("f-big", "TCGA-A1-0001-01Z-00-DX1.AA.svs", DATA, "TCGA-BRCA", "TCGA-A1-0001")
    histodata.fetch("tcga", quiet=True, standardize=False, connections=4)
    saved = dataset_paths("tcga").raw / "TCGA-BRCA" / "TCGA-A1-0001-01Z-00-DX1.AA.svs"
    assert saved.read_bytes() == DATA
    pieces = [r for r in api.server.requests if r.path.startswith("/data/") and r.headers.get("range")]
    assert len(pieces) == len(DATA) // PIECE - 1
