"""A dataset fetched from a local HTTP server and standardized gets `croissant.json` beside its manifest,
and mlcroissant (the reference implementation) reads one record per manifest row from it."""
from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import datasets
import mlcroissant as mlc
import pytest
from emulators.entries import entry_yaml
from helpers import run_cli
from servers.nginx import nginx  # noqa: F401 - the fixture
from std_helpers import class_folder_tiles, ihc_pixels, save_png, zip_folder  # noqa: F401 - fixtures

import histodata

CLASSES = ["ADI", "TUM"]
SERVED = "https://data.example.org"


@pytest.fixture
def fetched(tmp_path, nginx, extra_registry, monkeypatch, ihc_pixels):
    """`mini-crc` (two classes, train/val folders) fetched and standardized from nginx."""
    build = class_folder_tiles(ihc_pixels, tmp_path / "build", CLASSES, per_class=3, size=32)
    archive = zip_folder(build, nginx.root / "crc.zip", under="MINI")
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    monkeypatch.setenv("HISTODATA_MIRRORS", f"{SERVED}={nginx.url}")
    extra_registry(entry_yaml("mini-crc", {"kind": "http", "files": [
        {"name": "crc.zip", "url": f"{SERVED}/crc.zip", "size": archive.stat().st_size, "sha256": digest}]},
        standardize={"with": "folder-per-class", "options": {"splits": {"train": "train", "val": "validation"}}},
        summary="Two classes of tiles.", homepage="https://example.org/mini-crc", year=2024,
        citation="@misc{mini, author = {Doe, Jane and Roe, Richard}, title = {Mini}, year = 2024}\n"))
    result = run_cli("fetch", "mini-crc", "--json")
    assert result.returncode == 0, result.stderr
    return histodata.load("mini-crc"), digest


def test_fetch_writes_croissant_that_mlcroissant_iterates(fetched):
    ds, digest = fetched
    path = ds.root / "croissant.json"
    assert path.is_file()
    document = json.loads(path.read_text())
    remote = [d for d in document["distribution"] if d.get("name") == "crc.zip"]
    assert remote and remote[0]["sha256"] == digest and remote[0]["contentUrl"] == f"{SERVED}/crc.zip"
    assert [p["name"] for p in document["creator"]] == ["Jane Doe", "Richard Roe"]

    checked = subprocess.run([str(Path(sys.executable).parent / "mlcroissant"), "validate", "--jsonld", str(path)],
                             check=False, capture_output=True, text=True, timeout=300)
    assert checked.returncode == 0, checked.stderr[-2000:]     # the reference validator's own command
    dataset = mlc.Dataset(jsonld=str(path))
    records = list(dataset.records(record_set="samples"))
    frame = ds.manifest
    assert len(records) == len(frame) == 8

    def text(value):
        return value.decode() if isinstance(value, bytes) else value

    by_id = {text(r["samples/sample_id"]): r for r in records}
    assert set(by_id) == set(frame.sample_id)
    for row in frame.itertuples():
        record = by_id[row.sample_id]
        assert text(record["samples/label"]) == row.label
        assert text(record["samples/split"]) == row.split
        assert text(record["samples/image"]) == row.image and (ds.root / row.image).is_file()
    assert {text(r["samples/split"]) for r in records} == {"train", "validation"}
    splits = {text(r["splits/name"]): text(r["splits/url"]) for r in dataset.records(record_set="splits")}
    assert splits == {"train": "cr:TrainingSplit", "validation": "cr:ValidationSplit"}   # Croissant's split semantics


def test_croissant_command_describes_the_local_manifest(fetched, tmp_path):
    ds, _ = fetched
    out = tmp_path / "elsewhere" / "mini.json"
    out.parent.mkdir()
    result = run_cli("croissant", "mini-crc", "-o", str(out))
    assert result.returncode == 0, result.stderr
    document = json.loads(out.read_text())
    manifest = next(d for d in document["distribution"] if d["@id"] == "manifest")
    assert manifest["contentUrl"] == str(ds.paths.manifest.resolve())    # absolute: the file is elsewhere
    names = [f["name"] for f in document["recordSet"][0]["field"]]
    assert names == list(ds.manifest.columns)
    records = list(mlc.Dataset(jsonld=str(out)).records(record_set="samples"))
    assert len(records) == len(ds.manifest)


def test_to_hf_gives_image_and_classlabel_features_without_copying(fetched):
    ds, _ = fetched
    splits = ds.to_hf()
    assert isinstance(splits, datasets.DatasetDict) and set(splits) == {"train", "validation"}
    train = splits["train"]
    assert len(train) == 6 and len(splits["validation"]) == 2
    assert isinstance(train.features["image"], datasets.Image)
    assert isinstance(train.features["label"], datasets.ClassLabel)
    assert train.features["label"].names == ds.classes
    raw = train.with_format("arrow")[:]["image"].to_pylist()
    assert all(item["bytes"] is None and item["path"].startswith(str(ds.root)) for item in raw)   # paths only
    first = train[0]
    assert first["image"].size == (32, 32)
    row = ds.manifest[ds.manifest.sample_id == first["sample_id"]].iloc[0]
    assert train.features["label"].int2str(first["label"]) == row.label


def test_a_dataset_standardized_without_croissant_gets_one_on_the_next_fetch(fetched):
    ds, _ = fetched
    ds.paths.croissant.unlink()
    again = run_cli("fetch", "mini-crc", "--json")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["downloaded_bytes"] == 0
    document = json.loads(ds.paths.croissant.read_text())
    assert [r["@id"] for r in document["recordSet"]] == ["samples", "splits"]
