"""Patch, ROI and nuclei standardizers on miniature replicas: bcss, pcam, pannuke, monuseg, consep,
lizard, and raw."""
from __future__ import annotations

import gzip
import json

import numpy as np
import pandas as pd
import pytest
from std_helpers import ihc_pixels, make_entry, save_png, svs_pixels, zip_folder  # noqa: F401 - fixtures

import histodata
from histodata.layout import dataset_paths, read_record
from histodata.standardize import standardize_dataset


def test_bcss_rois_masks_and_codes(svs_pixels):
    paths = dataset_paths("bcss")
    names = ["TCGA-A1-A0SK-DX1_xmin45749_ymin25055_MPP-0.2500", "TCGA-OL-A5RW-DX1_xmin100_ymin200_MPP-0.2500"]
    for i, name in enumerate(names):
        save_png(svs_pixels[i * 300:i * 300 + 256, :320], paths.raw / "rgbs_colorNormalized" / f"{name}.png")
        mask = np.zeros((256, 320), np.uint8)
        mask[:100] = 1
        mask[100:200] = 2
        save_png(mask, paths.raw / "masks" / f"{name}.png")
    (paths.raw / "meta").mkdir()
    (paths.raw / "meta" / "gtruth_codes.tsv").write_text("label\tGT_code\noutside_roi\t0\ntumor\t1\nstroma\t2\n")
    standardize_dataset(make_entry("bcss", "bcss", test_institutions=["OL"]), paths, quiet=True)
    ds = histodata.load("bcss")
    row = ds.manifest.set_index("sample_id").loc[names[0]]
    assert (row["slide_id"], row["patient_id"], row["split"]) == ("TCGA-A1-A0SK-DX1", "TCGA-A1-A0SK", "train")
    assert (row["mpp"], row["x"], row["y"], row["width"], row["height"]) == (0.25, 45749, 25055, 320, 256)
    assert ds.manifest.set_index("sample_id").loc[names[1], "split"] == "test"
    assert ds.class_map["mask_values"] == {"0": "outside_roi", "1": "tumor", "2": "stroma"}
    assert ds.class_map["ignore"] == [0]
    mask = ds.read_mask(0)
    assert mask.shape == (256, 320) and set(np.unique(mask)) == {1, 2, 0}


def test_bcss_without_code_table_uses_the_published_22_codes(ihc_pixels):
    paths = dataset_paths("bcss2")
    save_png(ihc_pixels[:64, :64], paths.raw / "images" / "TCGA-E2-A1B1-DX1_left-1_top-2_mag-BASE.png")
    standardize_dataset(make_entry("bcss2", "bcss"), paths, quiet=True)
    ds = histodata.load("bcss2")
    assert len(ds.class_map["mask_values"]) == 22 and ds.class_map["mask_values"]["20"] == "dcis"
    assert ds.manifest.loc[0, "x"] == 1 and pd.isna(ds.manifest.loc[0, "split"])


def write_gz_h5(path, key, array):
    import h5py

    plain = path.with_suffix("")
    with h5py.File(plain, "w") as handle:
        handle.create_dataset(key, data=array)
    path.write_bytes(gzip.compress(plain.read_bytes()))
    plain.unlink()


def test_pcam_arrays_stay_arrays(ihc_pixels):
    paths = dataset_paths("pcam")
    paths.raw.mkdir(parents=True)
    tiles = np.stack([ihc_pixels[i * 96:(i + 1) * 96, :96] for i in range(5)]).astype(np.uint8)
    for split, n in (("train", 5), ("valid", 2)):
        prefix = f"camelyonpatch_level_2_split_{split}"
        write_gz_h5(paths.raw / f"{prefix}_x.h5.gz", "x", tiles[:n])
        write_gz_h5(paths.raw / f"{prefix}_y.h5.gz", "y", (np.arange(n) % 2).astype(np.uint8).reshape(n, 1, 1, 1))
        pd.DataFrame({"coord_y": range(n), "coord_x": range(n), "tumor_patch": [False] * n,
                      "center_tumor_patch": [False] * n, "wsi": [f"camelyon16_train_normal_{i:03d}" for i in range(n)]}
                     ).to_csv(paths.raw / f"{prefix}_meta.csv", index=False)
    report = standardize_dataset(make_entry("pcam", "pcam"), paths, quiet=True)
    assert report.samples == 7 and report.splits == {"train": 5, "valid": 2}
    ds = histodata.load("pcam")
    row = ds.manifest.set_index("sample_id").loc["train/000003"]
    assert (row["label"], row["index"], row["image_key"], row["slide_id"]) == \
        ("tumor", 3, "x", "camelyon16_train_normal_003")
    assert row["image"] == "extracted/camelyonpatch_level_2_split_train_x.h5"
    assert np.array_equal(ds.read_image(3), tiles[3])
    assert not list(paths.images.glob("**/*.png"))   # no PNGs written


def test_pannuke_fold_zips(tmp_path, ihc_pixels):
    paths = dataset_paths("pannuke")
    for fold, n in ((1, 3), (2, 2)):
        base = tmp_path / f"fold{fold}" / f"Fold {fold}"
        (base / "images" / f"fold{fold}").mkdir(parents=True)
        (base / "masks" / f"fold{fold}").mkdir(parents=True)
        images = np.stack([ihc_pixels[i * 100:i * 100 + 256, :256] for i in range(n)]).astype(np.float64)
        masks = np.zeros((n, 256, 256, 6), np.float64)
        masks[:, 10:20, 10:20, 0] = 1
        masks[..., 5] = 1
        np.save(base / "images" / f"fold{fold}" / "images.npy", images)
        np.save(base / "images" / f"fold{fold}" / "types.npy", np.array(["Breast"] * n))
        np.save(base / "masks" / f"fold{fold}" / "masks.npy", masks)
        zip_folder(tmp_path / f"fold{fold}", paths.raw / f"fold_{fold}.zip")
    report = standardize_dataset(make_entry("pannuke", "pannuke"), paths, quiet=True)
    assert report.splits == {"fold1": 3, "fold2": 2}
    ds = histodata.load("pannuke")
    row = ds.manifest.set_index("sample_id").loc["fold2/00001"]
    assert row["tissue"] == "Breast" and row["index"] == 1 and row["mask"].endswith("masks.npy")
    image = ds.read_image(4)
    assert image.dtype == np.uint8 and np.array_equal(image, ihc_pixels[100:356, :256])
    assert ds.read_mask(4).shape == (256, 256, 6)
    assert ds.class_map["mask_channels"]["5"] == "background"


MONUSEG_XML = """<Annotations MicronsPerPixel="0.252100"><Annotation Id="1" Name="" Type="4" LineColor="65280">
<Attributes><Attribute Name="Description" Id="0" Value=""/></Attributes><Regions>
<Region Id="1" Type="0"><Vertices><Vertex X="10" Y="10"/><Vertex X="30" Y="10"/><Vertex X="30" Y="30"/><Vertex X="10" Y="30"/></Vertices></Region>
<Region Id="2" Type="0"><Vertices><Vertex X="25" Y="25"/><Vertex X="45" Y="25"/><Vertex X="45" Y="45"/><Vertex X="25" Y="45"/></Vertices></Region>
</Regions><Plots/></Annotation></Annotations>"""


def test_monuseg_xml_to_geojson_and_instance_masks(svs_pixels):
    import tifffile

    paths = dataset_paths("monuseg")
    train = paths.raw / "MoNuSeg 2018 Training Data"
    (train / "Tissue Images").mkdir(parents=True)
    (train / "Annotations").mkdir()
    tifffile.imwrite(train / "Tissue Images" / "TCGA-18-5592-01Z-00-DX1.tif", svs_pixels[:100, :120])
    (train / "Annotations" / "TCGA-18-5592-01Z-00-DX1.xml").write_text(MONUSEG_XML)
    test = paths.raw / "MoNuSegTestData"
    test.mkdir()
    tifffile.imwrite(test / "TCGA-2Z-A9J9-01A-01-TS1.tif", svs_pixels[200:300, :120])
    (test / "TCGA-2Z-A9J9-01A-01-TS1.xml").write_text(MONUSEG_XML)
    standardize_dataset(make_entry("monuseg", "monuseg"), paths, quiet=True)
    ds = histodata.load("monuseg")
    df = ds.manifest.set_index("sample_id")
    assert sorted(df.split) == ["test", "train"]
    row = df.loc["train/TCGA-18-5592-01Z-00-DX1"]
    assert (row["width"], row["height"], row["nuclei"], row["patient_id"]) == (120, 100, 2, "TCGA-18-5592")
    from PIL import Image

    instances = np.asarray(Image.open(paths.base / row["instance_mask"]))
    assert (instances == 1).sum() == 20 * 20 - 5 * 5 and (instances == 2).sum() == 20 * 20  # later wins
    assert np.asarray(Image.open(paths.base / row["mask"])).sum() == 20 * 20 * 2 - 25
    features = json.loads((paths.base / row["annotation"]).read_text())["features"]
    assert len(features) == 2 and features[0]["properties"]["classification"]["name"] == "Nucleus"


def test_consep_mat_maps(ihc_pixels):
    from scipy.io import savemat

    paths = dataset_paths("consep")
    for split in ("Train", "Test"):
        rgba = np.dstack([ihc_pixels[:80, :90], np.full((80, 90), 255, np.uint8)])
        save_png(rgba, paths.raw / "CoNSeP" / split / "Images" / f"{split.lower()}_1.png")
        save_png(ihc_pixels[:80, :90], paths.raw / "CoNSeP" / split / "Overlay" / f"{split.lower()}_1.png")
        inst = np.zeros((80, 90), np.int32)
        inst[5:15, 5:15], inst[40:50, 40:60] = 1, 300
        types = np.where(inst == 1, 2, np.where(inst == 300, 5, 0)).astype(np.int32)
        (paths.raw / "CoNSeP" / split / "Labels").mkdir(parents=True)
        savemat(paths.raw / "CoNSeP" / split / "Labels" / f"{split.lower()}_1.mat",
                {"inst_map": inst, "type_map": types, "inst_type": np.array([[2], [5]]),
                 "inst_centroid": np.array([[10.0, 10.0], [50.0, 45.0]])})
    report = standardize_dataset(make_entry("consep", "consep"), paths, quiet=True)
    assert report.splits == {"test": 1, "train": 1}
    ds = histodata.load("consep")
    row = ds.manifest.set_index("sample_id").loc["train/train_1"]
    from PIL import Image

    assert np.asarray(Image.open(paths.base / row["instance_mask"])).max() == 300   # 16-bit kept
    mask = ds.read_mask(int(np.flatnonzero(ds.manifest.sample_id == "train/train_1")[0]))
    assert mask[10, 10] == 2 and mask[45, 50] == 5 and mask[0, 0] == 0
    assert row["nuclei"] == 2 and ds.class_map["mask_values"]["4"] == "dysplastic/malignant epithelial"


def test_lizard_maps_classes_through_ids(tmp_path, ihc_pixels):
    from scipy.io import savemat

    paths = dataset_paths("lizard")
    build = tmp_path / "build"
    save_png(ihc_pixels[:60, :60], build / "img1" / "Lizard_Images1" / "consep_1.png")
    inst = np.zeros((60, 60), np.int32)
    inst[0:10, 0:10], inst[20:30, 20:30] = 7, 3
    (build / "lab" / "Lizard_Labels" / "Labels").mkdir(parents=True)
    savemat(build / "lab" / "Lizard_Labels" / "Labels" / "consep_1.mat",
            {"inst_map": inst, "id": np.array([[3], [7]]), "class": np.array([[6], [1]]),
             "bbox": np.zeros((2, 4)), "centroid": np.zeros((2, 2))})
    (build / "lab" / "Lizard_Labels" / "info.csv").write_text("Filename,Source,Split\nconsep_1,consep,2\n")
    zip_folder(build / "img1", paths.raw / "lizard_images1.zip")
    zip_folder(build / "lab", paths.raw / "lizard_labels.zip")
    standardize_dataset(make_entry("lizard", "lizard"), paths, quiet=True)
    ds = histodata.load("lizard")
    row = ds.manifest.iloc[0]
    assert (row["split"], row["cohort"], row["nuclei"]) == ("fold2", "consep", 2)
    mask = ds.read_mask(0)
    assert mask[5, 5] == 1 and mask[25, 25] == 6   # id 7 -> class 1, id 3 -> class 6 (not by position)


def test_raw_lists_files_with_reason():
    paths = dataset_paths("rawset")
    (paths.raw / "sub").mkdir(parents=True)
    (paths.raw / "sub" / "a.csv").write_text("x")
    (paths.raw / "b.tif").write_bytes(b"123")
    entry = make_entry("rawset", "raw", reason="no specific standardizer yet")
    standardize_dataset(entry, paths, quiet=True)
    ds = histodata.load("rawset")
    assert ds.manifest.image.tolist() == ["raw/b.tif", "raw/sub/a.csv"]
    assert ds.manifest.bytes.tolist() == [3, 1]
    assert read_record(paths)["standardized"]["reason"] == "no specific standardizer yet"


def test_unknown_standardizer_is_a_clear_error():
    from histodata.errors import StandardizeError

    paths = dataset_paths("x")
    paths.raw.mkdir(parents=True)
    with pytest.raises(StandardizeError, match="unknown standardizer 'nope'.*folder-per-class"):
        standardize_dataset(make_entry("x", "nope"), paths)


def test_every_catalog_entry_with_files_names_a_standardizer():
    from histodata.registry.loader import load_registry
    from histodata.standardize import STANDARDIZERS

    for entry in load_registry().dicts():
        if any(s.get("files") for s in entry.get("sources", [])):
            assert (entry.get("standardize") or {}).get("with") in STANDARDIZERS, entry["id"]
