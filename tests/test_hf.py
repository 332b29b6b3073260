"""`Dataset.to_hf()` on hand-made local layouts: no splits, masks, unlabelled rows, array images."""
from __future__ import annotations

import datasets
import numpy as np
import pytest
from PIL import Image

from histodata.errors import StandardizeError
from histodata.layout import DatasetPaths
from histodata.local import Dataset
from histodata.standardize.base import manifest_frame, write_manifest


def local_dataset(tmp_path, rows, labels=None, standardizer="folder-per-class") -> Dataset:
    paths = DatasetPaths(tmp_path, "hand-made")
    for row in rows:
        for column in ("image", "mask"):
            if row.get(column, "").endswith(".png"):
                (paths.base / row[column]).parent.mkdir(parents=True, exist_ok=True)
                Image.fromarray(np.full((4, 6), 7, np.uint8)).save(paths.base / row[column])
    paths.base.mkdir(parents=True, exist_ok=True)
    write_manifest(manifest_frame(rows), paths.manifest)
    record = {"standardized": {"standardizer": standardizer, "class_map": {"labels": labels or []}}}
    return Dataset(paths, record)


def test_no_split_gives_one_dataset_with_masks_as_images_and_unlabelled_rows_as_minus_one(tmp_path):
    ds = local_dataset(tmp_path, [
        {"sample_id": "a", "image": "images/a.png", "mask": "masks/a.png", "label": "tumor"},
        {"sample_id": "b", "image": "images/b.png", "mask": "masks/b.png", "label": None}], labels=["normal", "tumor"])
    hf = ds.to_hf()
    assert isinstance(hf, datasets.Dataset) and len(hf) == 2
    assert isinstance(hf.features["mask"], datasets.Image)
    assert hf["label"] == [1, -1] and hf.features["label"].names == ["normal", "tumor"]
    assert np.asarray(hf[0]["mask"]).shape == (4, 6)


def test_images_inside_arrays_are_refused_with_a_pointer_to_the_torch_adapter(tmp_path):
    ds = local_dataset(tmp_path, [{"sample_id": "0", "image": "raw/x.h5", "index": 0, "label": "1"}], labels=["0", "1"])
    with pytest.raises(StandardizeError, match="ManifestDataset"):
        ds.to_hf()


def test_slides_stay_paths(tmp_path):
    ds = local_dataset(tmp_path, [{"sample_id": "s", "image": "raw/s.tiff", "split": "train"}], standardizer="slides")
    hf = ds.to_hf()["train"]
    assert isinstance(hf.features["image"], datasets.Value) and "string" in hf.features["image"].dtype
    assert hf[0]["image"] == str(ds.root / "raw/s.tiff")
