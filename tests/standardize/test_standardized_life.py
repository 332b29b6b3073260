"""The standardized copy on its own: a `--files` subset is standardized (and marked partial),
`verify` checks the layout, `fetch` and `standardize` make a damaged one again, `rm --raw-only`
reclaims the raw copy (hard-linked images keep their bytes), `load(download=True)` fetches.
Everything over HTTP (nginx, through the mirror map), through the CLI in a process."""
from __future__ import annotations

import hashlib
import json
import os
import shutil

import pytest
from emulators.entries import entry_yaml
from servers.nginx import nginx  # noqa: F401 - the fixture
from std_helpers import ihc_pixels, save_png, zip_folder  # noqa: F401 - fixtures

import histodata
from helpers import run_cli
from histodata.layout import dataset_paths, read_record

SERVED = "https://data.example.org"
CLASSES = ("ADI", "TUM")


def http_file(path, name: str) -> dict:
    data = path.read_bytes()
    return {"name": name, "url": f"{SERVED}/{name}", "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest()}


@pytest.fixture
def zipped(tmp_path, nginx, extra_registry, monkeypatch, ihc_pixels):
    """`tiles`: train.zip (6 tiles) and val.zip (2 tiles), class folders, folder-per-class."""
    for split, count in (("train", 3), ("val", 1)):
        for c, cls in enumerate(CLASSES):
            for i in range(count):
                save_png(ihc_pixels[c * 64:c * 64 + 32, i * 32:(i + 1) * 32],
                         tmp_path / "build" / split / split / cls / f"{cls}-{i}.png")
        zip_folder(tmp_path / "build" / split, nginx.root / f"{split}.zip")
    monkeypatch.setenv("HISTODATA_MIRRORS", f"{SERVED}={nginx.url}")
    extra_registry(entry_yaml("tiles", {"kind": "http", "files": [
        http_file(nginx.root / "train.zip", "train.zip"), http_file(nginx.root / "val.zip", "val.zip")]},
        standardize={"with": "folder-per-class"}))
    return nginx


@pytest.fixture
def loose(tmp_path, nginx, extra_registry, monkeypatch, ihc_pixels):
    """`loose`: 4 PNG tiles published one by one (images/ hard-links them from raw/)."""
    files = []
    for c, cls in enumerate(CLASSES):
        for i in range(2):
            name = f"train/{cls}/{cls}-{i}.png"
            save_png(ihc_pixels[c * 64:c * 64 + 32, i * 32:(i + 1) * 32], nginx.root / name)
            files.append(http_file(nginx.root / name, name))
    monkeypatch.setenv("HISTODATA_MIRRORS", f"{SERVED}={nginx.url}")
    extra_registry(entry_yaml("loose", {"kind": "http", "files": files},
                              standardize={"with": "folder-per-class"}))
    return nginx


def cli_json(*args: str) -> dict:
    result = run_cli(*args, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_a_files_subset_is_standardized_and_marked_partial(zipped):
    report = cli_json("fetch", "tiles", "--files", "train.zip")
    assert report["standardized"] is True and report["complete"] is False
    ds = histodata.load("tiles")
    assert ds.partial and "partial" in repr(ds)
    assert len(ds) == 6 and set(ds.manifest.split) == {"train"}
    assert ds.read_image(0).shape == (32, 32, 3)
    assert read_record(dataset_paths("tiles"))["standardized"]["partial"] is True
    listed = json.loads(run_cli("list", "--json").stdout)[0]
    assert listed["state"] == "ready" and listed["partial"] is True
    assert "ready, partial" in run_cli("list").stdout

    cli_json("fetch", "tiles")                       # the rest: standardized whole, no longer partial
    ds = histodata.load("tiles")
    assert not ds.partial and len(ds) == 8 and set(ds.manifest.split) == {"train", "val"}


def test_verify_sees_a_damaged_layout_and_fetch_and_standardize_repair_it(zipped):
    cli_json("fetch", "tiles")
    paths = dataset_paths("tiles")
    clean = cli_json("verify", "tiles")
    assert clean["ok"] and clean["layout"]["status"] == "ok" and clean["layout"]["files"] == 8

    shutil.rmtree(paths.images)
    broken = run_cli("verify", "tiles", "--json")
    assert broken.returncode == 1
    layout = json.loads(broken.stdout)["layout"]
    assert layout["status"] == "missing" and layout["missing_count"] == 8
    said = run_cli("verify", "tiles")
    assert "8 file(s) the manifest names are gone" in said.stderr
    assert "histodata standardize tiles" in said.stderr

    requests = len(zipped.requests())
    cli_json("fetch", "tiles")                       # re-standardized from raw/, nothing downloaded
    assert len(zipped.requests()) == requests
    ds = histodata.load("tiles")
    assert all((ds.root / image).is_file() for image in ds.manifest.image)
    assert cli_json("verify", "tiles")["ok"]

    one = ds.root / ds.manifest.image[0]
    one.write_bytes(one.read_bytes()[:-10])          # same name, other size: the marker still says extracted
    changed = json.loads(run_cli("verify", "tiles", "--json").stdout)["layout"]
    assert changed["status"] == "changed"
    redone = cli_json("standardize", "tiles")
    assert redone["changed"] is True and redone["samples"] == 8
    assert cli_json("verify", "tiles")["ok"]

    assert cli_json("standardize", "tiles")["changed"] is False      # up to date: nothing to do
    stray = paths.images / "left-over.txt"
    stray.write_text("from an earlier run")
    forced = run_cli("standardize", "tiles", "--force")
    assert forced.returncode == 0 and "standardized 8 sample(s)" in forced.stderr
    assert not stray.exists() and cli_json("verify", "tiles")["ok"]   # made again from raw/, on purpose


def test_rm_raw_only_keeps_hard_linked_images_and_verify_stays_meaningful(loose):
    cli_json("fetch", "loose")
    paths = dataset_paths("loose")
    ds = histodata.load("loose")
    before = ds.read_image(0)
    assert os.stat(ds.root / ds.manifest.image[0]).st_nlink == 2       # images/ links raw/

    dropped = cli_json("rm", "loose", "--raw-only")
    assert len(dropped["dropped"]) == 4 and dropped["kept"] == [] and dropped["freed_bytes"] == 0
    assert not any(paths.raw.rglob("*.png"))
    assert (histodata.load("loose").read_image(0) == before).all()     # the bytes live on in images/
    record = read_record(paths)
    assert len(record["raw_dropped"]["files"]) == 4 and record["raw_dropped"]["bytes"] > 0
    verified = cli_json("verify", "loose")
    assert verified["ok"] and verified["counts"]["dropped"] == 4 and verified["counts"]["missing"] == 0
    assert "4 dropped on purpose" in run_cli("verify", "loose").stderr
    assert json.loads(run_cli("list", "--json").stdout)[0]["raw_dropped"] == 4

    requests = len(loose.requests())
    again = run_cli("fetch", "loose")
    assert again.returncode == 0 and "removed on purpose" in again.stderr and "warning" not in again.stderr
    assert run_cli("standardize", "loose").stderr.startswith("loose: the standardized copy is up to date")
    assert len(loose.requests()) == requests                              # not downloaded again

    shutil.rmtree(paths.images)                       # now the only copy is gone: say how to get it back
    assert run_cli("verify", "loose").returncode == 1
    failed = run_cli("fetch", "loose")
    assert failed.returncode != 0 and "--files '*'" in failed.stderr and "Traceback" not in failed.stderr
    cli_json("fetch", "loose", "--files", "*")
    assert "raw_dropped" not in read_record(paths) and cli_json("verify", "loose")["ok"]
    assert len(histodata.load("loose")) == 4


def test_fetch_no_keep_raw_and_rm(zipped):
    report = cli_json("fetch", "tiles", "--no-keep-raw")
    assert sorted(report["raw_dropped"]["dropped"]) == ["train.zip", "val.zip"]
    assert report["raw_dropped"]["freed_bytes"] > 0
    assert len(histodata.load("tiles")) == 8 and cli_json("verify", "tiles")["ok"]

    refused = run_cli("rm", "..")
    assert refused.returncode == 1 and "not a dataset id" in refused.stderr
    removed = cli_json("rm", "tiles")
    assert removed["removed"] and removed["freed_bytes"] > 0 and not dataset_paths("tiles").base.exists()
    assert run_cli("rm", "tiles").returncode == 1


def test_rm_raw_only_refuses_without_a_standardized_copy(zipped):
    cli_json("fetch", "tiles", "--no-standardize")
    refused = run_cli("rm", "tiles", "--raw-only")
    assert refused.returncode == 1 and "only complete copy" in refused.stderr
    assert (dataset_paths("tiles").raw / "train.zip").is_file()


def test_load_download_fetches_when_absent(zipped):
    ds = histodata.load("tiles", download=True)
    assert len(ds) == 8 and not ds.partial
    requests = len(zipped.requests())
    assert len(histodata.load("tiles", download=True)) == 8 and len(zipped.requests()) == requests


def test_new_files_after_the_raw_copy_was_removed_say_they_are_not_standardized(zipped):
    cli_json("fetch", "tiles", "--files", "train.zip", "--no-keep-raw")
    more = run_cli("fetch", "tiles", "--files", "val.zip")
    assert more.returncode == 0 and "the standardized copy is kept as it was" in more.stderr
    assert "--files '*'" in more.stderr and len(histodata.load("tiles")) == 6    # the copy is not lost
