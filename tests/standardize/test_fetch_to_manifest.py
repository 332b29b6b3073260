"""The whole path: a class-folder zip served over HTTP (nginx, through the mirror map) -> fetch ->
standardize -> load(...).manifest; a second fetch downloads and extracts nothing."""
from __future__ import annotations

import hashlib
import json

from emulators.entries import entry_yaml
from servers.nginx import nginx  # noqa: F401 - the fixture
from std_helpers import class_folder_tiles, ihc_pixels, save_png, zip_folder  # noqa: F401 - fixtures

import histodata
from helpers import run_cli
from histodata.layout import dataset_paths, read_record

CLASSES = ["ADI", "LYM", "TUM"]


def test_class_folder_zip_over_http_to_manifest(tmp_path, nginx, extra_registry, monkeypatch, ihc_pixels):
    build = class_folder_tiles(ihc_pixels, tmp_path / "build", CLASSES, per_class=4, size=48)
    archive = zip_folder(build, nginx.root / "tiles.zip", under="MINI-KATHER")
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    served = "https://data.example.org"
    monkeypatch.setenv("HISTODATA_MIRRORS", f"{served}={nginx.url}")
    extra_registry(entry_yaml("mini-kather", {"kind": "http", "files": [
        {"name": "tiles.zip", "url": f"{served}/tiles.zip", "size": archive.stat().st_size, "sha256": digest}]},
        standardize={"with": "folder-per-class", "options": {"splits": {"train": "train", "val": "validation"}}}))

    result = run_cli("fetch", "mini-kather", "--json")
    assert result.returncode == 0, result.stderr
    ds = histodata.load("mini-kather")
    df = ds.manifest
    assert len(df) == 15 and sorted(df.label.unique()) == CLASSES
    assert df.groupby("split").size().to_dict() == {"train": 12, "validation": 3}
    assert set(df.source) == {"tiles.zip"}
    for row in df.itertuples():
        assert (ds.root / row.image).is_file() and f"/{row.label}/" in row.image
    record = read_record(dataset_paths("mini-kather"))
    assert record["files"]["tiles.zip"]["sha256"] == digest           # the fetch's part is kept
    assert record["standardized"]["samples"] == 15

    image = ds.root / df.image[0]
    inode, requests = image.stat().st_ino, len(nginx.requests())
    again = run_cli("fetch", "mini-kather", "--json")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["downloaded_bytes"] == 0
    assert len(nginx.requests()) == requests and image.stat().st_ino == inode   # nothing downloaded or redone

    listing = json.loads(run_cli("list", "--local", "--json").stdout)
    assert [(d["id"], d["state"], d["samples"]) for d in listing] == [("mini-kather", "ready", 15)]
    assert listing[0]["bytes"] >= archive.stat().st_size
    table = run_cli("status")
    assert table.returncode == 0 and "mini-kather" in table.stdout and "ready" in table.stdout
