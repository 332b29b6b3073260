"""The pager rule (histodata.sources.pager) in every kind that pages or walks a tree: a repeated
token or URL, a page with nothing new, a page cap, folder cycles and deep trees. Each service is
its emulator with a fault switched on; before the rule these listings never ended (the timeouts)."""
from __future__ import annotations

import logging
import sys

import pytest
from emulators.entries import entry_yaml
from emulators.gdrive import DriveEmulator, drive_id
from emulators.girder import API as GIRDER_API
from emulators.girder import GirderEmulator
from emulators.grand_challenge import GrandChallengeEmulator, Image, tls_contexts
from emulators.kaggle import KaggleEmulator
from emulators.s3 import S3Emulator
from helpers import run_cli

from histodata.errors import DownloadError
from histodata.http import new_session
from histodata.registry.models import Source
from histodata.sources import gdrive, girder, grand_challenge, kaggle, pager, s3

pytestmark = pytest.mark.timeout(30)


# ----------------------------------------------------------------------------- S3
@pytest.fixture
def bucket(emulate):
    emulator = S3Emulator(page_cap=3)
    emulator.objects.update({f"data/k{i:02d}.bin": b"k%d" % i for i in range(5)})
    return emulate(emulator)


def s3_names(emulator) -> list[str]:
    source = Source(kind="s3", bucket=emulator.bucket, region=emulator.region)
    return sorted(f.name for f in s3.list_files(source, new_session(), None))


def test_s3_pages_normally(bucket):
    assert s3_names(bucket) == [f"data/k{i:02d}.bin" for i in range(5)]
    assert len(bucket.server.seen("/")) == 2


@pytest.mark.parametrize("fault", ["repeat-token", "ignore-token"])
def test_s3_repeated_token_or_ignored_token_ends_with_a_warning(bucket, fault, caplog):
    bucket.paging = fault
    with caplog.at_level(logging.WARNING, logger="histodata"):
        names = s3_names(bucket)
    assert names[:3] == ["data/k00.bin", "data/k01.bin", "data/k02.bin"]
    assert len(bucket.server.requests) <= 3
    assert "S3 bucket histo-public" in caplog.text


def test_s3_endless_listing_stops_at_the_page_cap_with_a_clear_error(bucket, monkeypatch):
    bucket.paging = "endless"
    monkeypatch.setenv("HISTODATA_MAX_PAGES", "7")
    with pytest.raises(DownloadError, match="did not end after 7 pages") as info:
        s3_names(bucket)
    assert "HISTODATA_MAX_PAGES" in str(info.value)
    assert len(bucket.server.requests) == 7


# ----------------------------------------------------------------------------- Kaggle
USER, KEY = "alice", "kagglekey0123456789"


@pytest.fixture
def kaggle_server(emulate, monkeypatch):
    emulator = KaggleEmulator(users={USER: KEY})
    emulator.datasets["bob/tiles"] = {f"tiles/t_{i:03d}.png": b"p%03d" % i for i in range(230)}  # 2 pages
    monkeypatch.setenv("KAGGLE_USERNAME", USER)
    monkeypatch.setenv("KAGGLE_KEY", KEY)
    return emulate(emulator)


def test_kaggle_repeated_page_token_ends_with_a_warning(kaggle_server, caplog):
    kaggle_server.paging = "repeat-token"
    with caplog.at_level(logging.WARNING, logger="histodata"):
        files = kaggle.list_files(Source(kind="kaggle", dataset="bob/tiles"), new_session(), None)
    assert len(files) == 230
    assert "Kaggle (datasets/bob/tiles)" in caplog.text and "page token" in caplog.text


def test_kaggle_endless_listing_is_an_error_through_the_cli(kaggle_server, extra_registry):
    kaggle_server.paging = "endless"
    extra_registry(entry_yaml("kaggle-endless", {"kind": "kaggle", "dataset": "bob/tiles"}))
    result = run_cli("fetch", "kaggle-endless", env={"HISTODATA_MAX_PAGES": "4"})
    assert result.returncode == 1, result.stderr
    assert "did not end after 4 pages" in result.stderr and "HISTODATA_MAX_PAGES" in result.stderr
    assert "this is a bug" not in result.stderr


# ----------------------------------------------------------------------------- grand-challenge
TOKEN = "gc-token-0123456789abcdef"


def test_grand_challenge_next_pointing_to_itself_ends(tmp_path, monkeypatch, emulate, caplog):
    context, bundle = tls_contexts(tmp_path)
    emulator = GrandChallengeEmulator(context, {TOKEN})
    archive = emulator.archive("loop")
    for i in range(130):
        emulator.add_item(archive, generic_medical_image=Image(f"s{i}", {f"s_{i:03d}.tif": b"II*\x00"}))
    emulator.repeat_next = True
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    monkeypatch.setenv("GRAND_CHALLENGE_AUTHORIZATION", f"Bearer {TOKEN}")
    emulate(emulator)
    with caplog.at_level(logging.WARNING, logger="histodata"):
        files = grand_challenge.list_files(Source(kind="grand-challenge", archive="loop"), new_session(), None)
    assert len(files) == 130
    assert len(emulator.server.seen("/archives/items/")) == 2
    assert "grand-challenge.org" in caplog.text


# ----------------------------------------------------------------------------- Girder
@pytest.fixture
def girder_server(emulate):
    emulator = GirderEmulator()
    collection = emulator.collection("data")
    top = emulator.folder(collection, "top")
    for i in range(3):
        emulator.item(top, f"f{i}.bin", {f"f{i}.bin": b"%d" % i})
    sub = emulator.folder(top, "sub")
    emulator.item(sub, "deep.bin", {"deep.bin": b"deep"})
    emulator.refs = {"top": top, "sub": sub}
    return emulate(emulator)


def test_girder_full_pages_forever_end_when_nothing_is_new(girder_server, caplog):
    girder_server.ignore_offset = True
    girder_server.claimed_total = 10**9          # a lying Girder-Total-Count: "keep paging"
    with caplog.at_level(logging.WARNING, logger="histodata"):
        files = girder.list_files(Source(kind="girder", api_url=GIRDER_API, folder=girder_server.refs["top"].id),
                                  new_session(), None)
    assert sorted(f.name for f in files) == ["f0.bin", "f1.bin", "f2.bin", "sub/deep.bin"]
    assert "nothing new" in caplog.text and "Girder" in caplog.text


def test_girder_folder_inside_itself_is_walked_once(girder_server, caplog):
    top, sub = girder_server.refs["top"], girder_server.refs["sub"]
    girder_server.nest(top, sub)                 # top/sub/top/sub/... : a cycle
    girder_server.nest(sub, sub)                 # and sub inside itself
    with caplog.at_level(logging.WARNING, logger="histodata"):
        files = girder.list_files(Source(kind="girder", api_url=GIRDER_API, folder=top.id), new_session(), None)
    assert sorted(f.name for f in files) == ["f0.bin", "f1.bin", "f2.bin", "sub/deep.bin"]
    assert "twice" in caplog.text


def test_girder_cycle_through_the_cli_is_not_a_crash(girder_server, extra_registry):
    top, sub = girder_server.refs["top"], girder_server.refs["sub"]
    girder_server.nest(sub, sub)
    extra_registry(entry_yaml("girder-cycle", {"kind": "girder", "api_url": GIRDER_API, "folder": top.id}))
    result = run_cli("fetch", "girder-cycle")
    assert result.returncode == 0, result.stderr
    assert "walked once" in result.stderr


# ----------------------------------------------------------------------------- Google Drive
def test_drive_folder_cycles_and_deep_trees(emulate):
    emulator = DriveEmulator()
    chain = [drive_id(n, "0") for n in range(400)]        # deeper than the recursion limit set below
    emulator.add_folder(chain[0], "root")
    for n in range(1, len(chain)):
        emulator.add_folder(chain[n], "d", parent=chain[n - 1])
    emulator.add_file(drive_id(5000), "leaf.bin", b"leaf", folder=chain[-1])
    emulator.add_file(drive_id(5001), "top.bin", b"top", folder=chain[0])
    emulator.folders[chain[-1]].children.append(chain[0])  # the deepest folder holds the root
    emulate(emulator)
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(300)                            # one frame per level would not fit
    try:
        files = gdrive.list_files(Source(kind="gdrive", folder=chain[0]), new_session(), None)
    finally:
        sys.setrecursionlimit(limit)
    assert sorted(f.name for f in files) == sorted(["top.bin", "/".join(["d"] * 399 + ["leaf.bin"])])


# ----------------------------------------------------------------------------- the rule itself
def test_follow_keeps_records_once_and_stops_on_a_repeated_token(caplog):
    pages = {None: ([1, 2], "a"), "a": ([2, 3], "b"), "b": ([4], "a")}
    with caplog.at_level(logging.WARNING, logger="histodata"):
        assert list(pager.follow("Example", lambda token: pages[token])) == [1, 2, 3, 4]
    assert "Example handed back a page token" in caplog.text


def test_walk_tree_is_iterative_and_keeps_order():
    depth = 20_000                                        # far deeper than any recursion limit

    def children(node, where):
        if node < depth:
            yield f"{node}.txt", (where, f"{node}.txt"), False
            yield node + 1, where + 1, True
            if node == depth - 1:
                yield 0, 0, True                          # the deepest folder lists the root: a cycle

    walked = list(pager.walk_tree("Example", 0, children, start=0))
    assert len(walked) == depth and walked[:2] == [((0, "0.txt"), "0.txt"), ((1, "1.txt"), "1.txt")]
