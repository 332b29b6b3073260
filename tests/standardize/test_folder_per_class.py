"""folder-per-class from zips (Kather's layout) and folders (HER2-IHC-40x's), idempotent."""
from __future__ import annotations

import os

import pandas as pd
import pytest
from std_case import StandardizerCase, png, zipped
from std_helpers import ihc_pixels, svs_pixels  # noqa: F401 - fixtures

import histodata
from histodata.errors import StandardizeError
from histodata.layout import read_record

KATHER = ["ADI", "BACK", "DEB", "LYM", "MUC", "MUS", "NORM", "STR", "TUM"]


def kather_zip(pixels, root: str, per_class: int):
    """Kather's layout: <root>/<class>/<class>-<root>NNNN.png tiles in one zip."""
    return zipped({f"{root}/{cls}/{cls}-{root[:3]}{i:04d}.png":
                   png(pixels[c * 40:(c * 40) + 224, i * 30:(i * 30) + 224])
                   for c, cls in enumerate(KATHER) for i in range(per_class)})


def test_kather_zips_become_a_manifest(svs_pixels):
    row_id = "NCT-CRC-HE-100K/TUM/TUM-NCT0002"
    outcome = StandardizerCase(
        "folder-per-class", dataset="kather",
        files={f"{root}.zip": kather_zip(svs_pixels, root, n)
               for root, n in (("NCT-CRC-HE-100K", 3), ("CRC-VAL-HE-7K", 2))},
        options={"splits": {"NCT-CRC-HE-100K": "train", "CRC-VAL-HE-7K": "test"}},
        samples=9 * 5, splits={"test": 18, "train": 27}, classes=sorted(KATHER),
        rows={row_id: {"label": "TUM", "split": "train", "source": "NCT-CRC-HE-100K.zip",
                       "image": "images/NCT-CRC-HE-100K/TUM/TUM-NCT0002.png", "width": 224, "height": 224}},
        column_names={"sample_id", "split", "image", "label", "mask", "annotation", "slide_id", "patient_id",
                      "source", "width", "height", "mpp", "magnification", "center"},
        record={"standardizer": "folder-per-class"}, class_map={"labels": sorted(KATHER)},
    ).run()
    ds, df, row = outcome.ds, outcome.ds.manifest, outcome.manifest.loc[row_id]
    assert ds.read_image(int(df.index[df.sample_id == row.name][0])).shape == (224, 224, 3)
    assert (outcome.paths.base / row["image"]).is_file()


def test_second_run_does_nothing_and_other_record_parts_are_kept(ihc_pixels):
    case = StandardizerCase("folder-per-class", dataset="tiny",
                            files={"tiles.zip": kather_zip(ihc_pixels, "tiles", 1)},
                            dataset_record={"files": {"tiles.zip": {"size": 1, "sha256": "ab" * 32}},
                                            "fetch": {"when": "now"}})
    paths = case.run().paths   # changed
    manifest_mtime = paths.manifest.stat().st_mtime_ns
    image = paths.images / "tiles" / "ADI" / "ADI-til0000.png"
    inode = image.stat().st_ino
    case.again(changed=False, samples=9).run(write=False)
    assert paths.manifest.stat().st_mtime_ns == manifest_mtime and image.stat().st_ino == inode
    record = read_record(paths)
    assert record["fetch"] == {"when": "now"} and "tiles.zip" in record["files"]
    assert pd.read_parquet(paths.manifest)["split"].unique().tolist() == ["tiles"]  # root name by default
    case.again(options={"splits": {"tiles": "train"}}, splits={"train": 9}).run(write=False)   # changed
    assert image.stat().st_ino == inode   # the archive was not extracted again


def test_her2_folders_with_split_roots_are_hard_linked(ihc_pixels):
    classes = ["class_0", "class_1+", "class_2+", "class_3+"]
    files = {f"HER2-IHC-40x/{split}/{cls}/{c}.png": png(ihc_pixels[c * 100:c * 100 + 64, :64])
             for split in ("train", "test") for c, cls in enumerate(classes)}
    files["HER2-IHC-40x/stray.png"] = png(ihc_pixels[:8, :8])   # outside any class folder
    paths = StandardizerCase("folder-per-class", dataset="her2-ihc-40x", files=files, options={"classes": classes},
                             samples=8, splits={"test": 4, "train": 4}, classes=classes,
                             rows={"HER2-IHC-40x/test/class_3+/3": {"label": "class_3+"}}).run().paths
    raw = paths.raw / "HER2-IHC-40x" / "test" / "class_3+" / "3.png"
    linked = paths.images / "HER2-IHC-40x" / "test" / "class_3+" / "3.png"
    assert os.path.samefile(raw, linked)   # a hard link, not a copy


def test_splits_option_can_leave_a_root_out(ihc_pixels):
    StandardizerCase("folder-per-class", dataset="d", options={"splits": {"extra": None}},
                     files={name: png(pixels) for root in ("train", "extra")
                            for name, pixels in ((f"{root}/A/1.png", ihc_pixels[:32, :32]),
                                                 (f"{root}/B/1.png", ihc_pixels[32:64, :32]))},
                     columns={"split": ["train", "train"]}).run()


def test_no_class_folders_is_a_clear_error():
    StandardizerCase("folder-per-class", dataset="empty", files={"notes.txt": "nothing"},
                     error=(StandardizeError, "no images in class folders")).run()


def test_load_before_fetch_says_what_to_do():
    with pytest.raises(histodata.HistodataError, match="histodata fetch bcss"):
        histodata.load("bcss")
    with pytest.raises(histodata.HistodataError, match="No dataset with id 'nothing-here'"):
        histodata.load("nothing-here")
