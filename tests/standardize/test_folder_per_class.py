"""folder-per-class from zips (Kather's layout) and folders (HER2-IHC-40x's), idempotent."""
from __future__ import annotations

import os

import pandas as pd
import pytest
from std_helpers import ihc_pixels, make_entry, save_png, svs_pixels, zip_folder  # noqa: F401 - fixtures

import histodata
from histodata.errors import StandardizeError
from histodata.layout import dataset_paths, read_record
from histodata.standardize import standardize_dataset

KATHER = ["ADI", "BACK", "DEB", "LYM", "MUC", "MUS", "NORM", "STR", "TUM"]


def kather_zip(tmp_path, pixels, root: str, per_class: int):
    folder = tmp_path / "build" / root
    for c, cls in enumerate(KATHER):
        for i in range(per_class):
            tile = pixels[c * 40:(c * 40) + 224, i * 30:(i * 30) + 224]
            save_png(tile, folder / cls / f"{cls}-{root[:3]}{i:04d}.png")
    return zip_folder(folder, tmp_path / "dl" / f"{root}.zip", under=root)


def test_kather_zips_become_a_manifest(tmp_path, svs_pixels):
    paths = dataset_paths("kather")
    paths.raw.mkdir(parents=True)
    for root, n in (("NCT-CRC-HE-100K", 3), ("CRC-VAL-HE-7K", 2)):
        os.replace(kather_zip(tmp_path, svs_pixels, root, n), paths.raw / f"{root}.zip")
    entry = make_entry("kather", "folder-per-class",
                       splits={"NCT-CRC-HE-100K": "train", "CRC-VAL-HE-7K": "test"})
    report = standardize_dataset(entry, paths, quiet=True)
    assert report.changed and report.samples == 9 * 5
    assert report.splits == {"test": 18, "train": 27}
    ds = histodata.load("kather")
    df = ds.manifest
    assert ds.classes == sorted(KATHER)
    row = df.set_index("sample_id").loc["NCT-CRC-HE-100K/TUM/TUM-NCT0002"]
    assert (row["label"], row["split"], row["source"]) == ("TUM", "train", "NCT-CRC-HE-100K.zip")
    assert row["image"] == "images/NCT-CRC-HE-100K/TUM/TUM-NCT0002.png"
    assert (row["width"], row["height"]) == (224, 224)
    assert ds.read_image(int(df.index[df.sample_id == row.name][0])).shape == (224, 224, 3)
    assert (paths.base / row["image"]).is_file()
    assert set(df.columns) >= {"sample_id", "split", "image", "label", "mask", "annotation", "slide_id",
                               "patient_id", "source", "width", "height", "mpp", "magnification", "center"}
    record = read_record(paths)
    assert record["standardized"]["standardizer"] == "folder-per-class"
    assert record["standardized"]["class_map"]["labels"] == sorted(KATHER)


def test_second_run_does_nothing_and_other_record_parts_are_kept(tmp_path, ihc_pixels):
    paths = dataset_paths("tiny")
    paths.raw.mkdir(parents=True)
    os.replace(kather_zip(tmp_path, ihc_pixels, "tiles", 1), paths.raw / "tiles.zip")
    from histodata.layout import write_record

    write_record(paths, {"files": {"tiles.zip": {"size": 1, "sha256": "ab" * 32}}, "fetch": {"when": "now"}})
    entry = make_entry("tiny", "folder-per-class")
    assert standardize_dataset(entry, paths, quiet=True).changed
    manifest_mtime = paths.manifest.stat().st_mtime_ns
    image = paths.images / "tiles" / "ADI" / "ADI-til0000.png"
    inode = image.stat().st_ino
    again = standardize_dataset(entry, paths, quiet=True)
    assert not again.changed and again.samples == 9
    assert paths.manifest.stat().st_mtime_ns == manifest_mtime and image.stat().st_ino == inode
    record = read_record(paths)
    assert record["fetch"] == {"when": "now"} and "tiles.zip" in record["files"]
    assert pd.read_parquet(paths.manifest)["split"].unique().tolist() == ["tiles"]  # root name by default
    changed = standardize_dataset(make_entry("tiny", "folder-per-class", splits={"tiles": "train"}), paths,
                                  quiet=True)
    assert changed.changed and changed.splits == {"train": 9}
    assert image.stat().st_ino == inode   # the archive was not extracted again


def test_her2_folders_with_split_roots_are_hard_linked(tmp_path, ihc_pixels):
    paths = dataset_paths("her2-ihc-40x")
    classes = ["class_0", "class_1+", "class_2+", "class_3+"]
    for split in ("train", "test"):
        for c, cls in enumerate(classes):
            save_png(ihc_pixels[c * 100:c * 100 + 64, :64], paths.raw / "HER2-IHC-40x" / split / cls / f"{c}.png")
    save_png(ihc_pixels[:8, :8], paths.raw / "HER2-IHC-40x" / "stray.png")   # outside any class folder
    entry = make_entry("her2-ihc-40x", "folder-per-class", classes=classes)
    report = standardize_dataset(entry, paths, quiet=True)
    df = histodata.load("her2-ihc-40x").manifest
    assert report.samples == 8 and sorted(df.split.unique()) == ["test", "train"]
    assert df.set_index("sample_id").loc["HER2-IHC-40x/test/class_3+/3", "label"] == "class_3+"
    raw = paths.raw / "HER2-IHC-40x" / "test" / "class_3+" / "3.png"
    linked = paths.images / "HER2-IHC-40x" / "test" / "class_3+" / "3.png"
    assert os.path.samefile(raw, linked)   # a hard link, not a copy
    assert histodata.load("her2-ihc-40x").classes == classes


def test_splits_option_can_leave_a_root_out(tmp_path, ihc_pixels):
    paths = dataset_paths("d")
    for root in ("train", "extra"):
        save_png(ihc_pixels[:32, :32], paths.raw / root / "A" / "1.png")
        save_png(ihc_pixels[32:64, :32], paths.raw / root / "B" / "1.png")
    standardize_dataset(make_entry("d", "folder-per-class", splits={"extra": None}), paths, quiet=True)
    assert histodata.load("d").manifest.split.tolist() == ["train", "train"]


def test_no_class_folders_is_a_clear_error(tmp_path):
    paths = dataset_paths("empty")
    (paths.raw).mkdir(parents=True)
    (paths.raw / "notes.txt").write_text("nothing")
    with pytest.raises(StandardizeError, match="no images in class folders"):
        standardize_dataset(make_entry("empty", "folder-per-class"), paths, quiet=True)


def test_load_before_fetch_says_what_to_do():
    with pytest.raises(histodata.HistodataError, match="histodata fetch nothing-here"):
        histodata.load("nothing-here")
