"""Archives inside archives (HER2-IHC-40x: her2-ihc-40x-wsi.zip holds WSI-based-dataset/
train_data_wsi.zip and test_data_wsi.zip) are extracted too, under one bomb budget and a bounded
depth; the real entries fetched from a Zenodo stand-in end as manifests with the published counts."""
from __future__ import annotations

import io
import os
import zipfile

import pytest
from emulators.zenodo import ZenodoEmulator
from std_case import StandardizerCase

import histodata
from histodata import archives
from histodata.errors import UnsafeArchiveError

CLASSES = ["class_0", "class_1+", "class_2+", "class_3+"]
LABELS = ["0", "1+", "2+", "3+"]
# Published per-class counts of the slide-level split (train, then test; classes 0 / 1+ / 2+ / 3+).
WSI_COUNTS = {"train": [3131, 1837, 523, 2602], "test": [658, 316, 111, 762]}


def tiny_png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (120, 80, 40)).save(buffer, format="PNG")
    return buffer.getvalue()


def zip_of(members: dict[str, bytes], compression=zipfile.ZIP_STORED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as bundle:
        for name, data in members.items():
            bundle.writestr(name, data)
    return buffer.getvalue()


def her2_archive(outer: str, inner: str, counts: dict[str, list[int]], wrapped: bool) -> bytes:
    """<outer>/{train,test}_data_<inner>.zip, each with the class folders (loose, or inside a folder
    named like the inner zip when `wrapped`), `counts` images per class."""
    image, members = tiny_png(), {}
    for split, per_class in counts.items():
        folder = f"{split}_data_{inner}/" if wrapped else ""
        members[f"{outer}/{split}_data_{inner}.zip"] = zip_of(
            {f"{folder}{cls}/{split}_{cls}_{i:05d}.png": image
             for cls, n in zip(CLASSES, per_class) for i in range(n)})
    return zip_of(members)


@pytest.fixture
def zen(emulate, monkeypatch):
    monkeypatch.setenv("HISTODATA_BACKOFF", "0")
    return emulate(ZenodoEmulator())


def per_split_and_class(ds) -> dict:
    counts = ds.manifest.groupby(["split", "label"]).size()
    return {split: [int(counts.get((split, label), 0)) for label in LABELS] for split in ("train", "test")}


def test_real_her2_entry_from_the_nested_archive_has_the_published_counts(zen):
    zen.add("15179608", {"her2-ihc-40x-wsi.zip": her2_archive("WSI-based-dataset", "wsi", WSI_COUNTS, False),
                         "her2-ihc-40x-patch.zip": b"not this variant"})
    histodata.fetch("her2-ihc-40x", quiet=True)
    ds = histodata.load("her2-ihc-40x")
    assert len(ds.manifest) == 9940
    assert per_split_and_class(ds) == WSI_COUNTS
    assert ds.classes == LABELS
    row = ds.manifest.iloc[0]
    assert row.source == "her2-ihc-40x-wsi.zip" and (ds.root / row.image).is_file()
    assert not list(ds.root.rglob("*_data_wsi.zip"))      # the inner zips stand for their members


def test_real_her2_patch_entry_with_inner_zips_that_hold_their_own_folder(zen):
    counts = {"train": [7, 5, 3, 6], "test": [2, 1, 1, 2]}
    zen.add("15179608", {"her2-ihc-40x-patch.zip": her2_archive("Patch-based-dataset", "patch", counts, True)})
    histodata.fetch("her2-ihc-40x-wsi", quiet=True)
    ds = histodata.load("her2-ihc-40x-wsi")
    assert per_split_and_class(ds) == counts
    assert all("/train_data_patch/class_" in p or "/test_data_patch/class_" in p for p in ds.manifest.image)


def test_nested_archives_share_one_bomb_budget(tmp_path):
    inner = zip_of({"random.bin": os.urandom(400_000)})
    outer = tmp_path / "outer.zip"
    outer.write_bytes(zip_of({"a.zip": inner, "b.zip": inner}))   # each level alone: 800 KB at most
    limits = archives.Limits(max_bytes=1_000_000)
    with pytest.raises(UnsafeArchiveError, match="uncompressed total over 1000000"):
        archives.extract(outer, tmp_path / "out", nested=True, limits=limits)   # together: 1.6 MB
    assert [p.name for p in (tmp_path / "out").iterdir()] == []           # nothing half-extracted
    assert archives.extract(outer, tmp_path / "ok", nested=True, limits=archives.Limits(max_bytes=2_000_000)).changed
    assert (tmp_path / "ok" / "a" / "random.bin").stat().st_size == 400_000
    done = archives.extract(outer, tmp_path / "flat", limits=limits)      # without nesting: the zips as they are
    assert sorted(p.name for p in done.folder.iterdir() if not p.name.startswith(".")) == ["a.zip", "b.zip"]


def test_nesting_depth_is_bounded(tmp_path):
    data = zip_of({"x.txt": b"x"})
    for level in range(archives.MAX_NESTING + 1):
        data = zip_of({f"level{level}.zip": data})
    outer = tmp_path / "deep.zip"
    outer.write_bytes(data)
    with pytest.raises(UnsafeArchiveError, match="nested more than"):
        archives.extract(outer, tmp_path / "out", nested=True)


def test_folder_per_class_extracts_a_nested_zip_of_class_folders():
    inner = zip_of({f"{cls}/{i}.png": tiny_png() for cls in ("ADI", "TUM") for i in range(2)})
    StandardizerCase("folder-per-class", dataset="nested", files={"tiles.zip": zip_of({"data/train.zip": inner})},
                     samples=4, splits={"train": 4}, classes=["ADI", "TUM"]).run()
