"""Patch, ROI and nuclei standardizers on miniature replicas: bcss, pcam, pannuke, monuseg, consep,
lizard, and raw."""
from __future__ import annotations

import gzip
import json

import numpy as np
import pandas as pd
from std_case import StandardizerCase, mat, npy, png, tiff, zipped
from std_helpers import ihc_pixels, svs_pixels  # noqa: F401 - fixtures

from histodata.errors import StandardizeError


def test_bcss_rois_masks_and_codes(svs_pixels):
    names = ["TCGA-A1-A0SK-DX1_xmin45749_ymin25055_MPP-0.2500", "TCGA-OL-A5RW-DX1_xmin100_ymin200_MPP-0.2500"]
    mask = np.zeros((256, 320), np.uint8)
    mask[:100] = 1
    mask[100:200] = 2
    files = {}
    for i, name in enumerate(names):
        files[f"rgbs_colorNormalized/{name}.png"] = png(svs_pixels[i * 300:i * 300 + 256, :320])
        files[f"masks/{name}.png"] = png(mask)
    files["meta/gtruth_codes.tsv"] = "label\tGT_code\noutside_roi\t0\ntumor\t1\nstroma\t2\n"
    ds = StandardizerCase(
        "bcss", dataset="bcss", files=files, options={"test_institutions": ["OL"]},
        rows={names[0]: {"slide_id": "TCGA-A1-A0SK-DX1", "patient_id": "TCGA-A1-A0SK", "split": "train",
                         "mpp": 0.25, "x": 45749, "y": 25055, "width": 320, "height": 256},
              names[1]: {"split": "test"}},
        class_map={"mask_values": {"0": "outside_roi", "1": "tumor", "2": "stroma"}, "ignore": [0]},
    ).run().ds
    mask = ds.read_mask(0)
    assert mask.shape == (256, 320) and set(np.unique(mask)) == {1, 2, 0}


def test_bcss_without_code_table_uses_the_published_22_codes(ihc_pixels):
    name = "TCGA-E2-A1B1-DX1_left-1_top-2_mag-BASE"
    ds = StandardizerCase("bcss", dataset="bcss2", files={f"images/{name}.png": png(ihc_pixels[:64, :64])},
                          samples=1, rows={name: {"x": 1, "split": None}}).run().ds
    assert len(ds.class_map["mask_values"]) == 22 and ds.class_map["mask_values"]["20"] == "dcis"


def write_gz_h5(path, key, array):
    import h5py

    plain = path.with_suffix("")
    with h5py.File(plain, "w") as handle:
        handle.create_dataset(key, data=array)
    path.write_bytes(gzip.compress(plain.read_bytes()))
    plain.unlink()


def h5_gz(key, array):
    return lambda path: write_gz_h5(path, key, array)


def test_pcam_arrays_stay_arrays(ihc_pixels):
    tiles = np.stack([ihc_pixels[i * 96:(i + 1) * 96, :96] for i in range(5)]).astype(np.uint8)
    files = {}
    for split, n in (("train", 5), ("valid", 2)):
        prefix = f"camelyonpatch_level_2_split_{split}"
        files[f"{prefix}_x.h5.gz"] = h5_gz("x", tiles[:n])
        files[f"{prefix}_y.h5.gz"] = h5_gz("y", (np.arange(n) % 2).astype(np.uint8).reshape(n, 1, 1, 1))
        meta = pd.DataFrame({"coord_y": range(n), "coord_x": range(n), "tumor_patch": [False] * n,
                             "center_tumor_patch": [False] * n,
                             "wsi": [f"camelyon16_train_normal_{i:03d}" for i in range(n)]})
        files[f"{prefix}_meta.csv"] = lambda path, meta=meta: meta.to_csv(path, index=False)
    outcome = StandardizerCase(
        "pcam", dataset="pcam", files=files, samples=7, splits={"train": 5, "valid": 2},
        rows={"train/000003": {"label": "tumor", "index": 3, "image_key": "x",
                               "slide_id": "camelyon16_train_normal_003",
                               "image": "extracted/camelyonpatch_level_2_split_train_x.h5"}},
    ).run()
    assert np.array_equal(outcome.ds.read_image(3), tiles[3])
    assert not list(outcome.paths.images.glob("**/*.png"))   # no PNGs written


def test_pannuke_fold_zips(ihc_pixels):
    files = {}
    for fold, n in ((1, 3), (2, 2)):
        images = np.stack([ihc_pixels[i * 100:i * 100 + 256, :256] for i in range(n)]).astype(np.float64)
        masks = np.zeros((n, 256, 256, 6), np.float64)
        masks[:, 10:20, 10:20, 0] = 1
        masks[..., 5] = 1
        folder = f"Fold {fold}"
        files[f"fold_{fold}.zip"] = zipped({f"{folder}/images/fold{fold}/images.npy": npy(images),
                                            f"{folder}/images/fold{fold}/types.npy": npy(np.array(["Breast"] * n)),
                                            f"{folder}/masks/fold{fold}/masks.npy": npy(masks)})
    outcome = StandardizerCase("pannuke", dataset="pannuke", files=files, splits={"fold1": 3, "fold2": 2},
                               rows={"fold2/00001": {"tissue": "Breast", "index": 1}}).run()
    ds, row = outcome.ds, outcome.manifest.loc["fold2/00001"]
    assert row["mask"].endswith("masks.npy")
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
    train, test = "MoNuSeg 2018 Training Data", "MoNuSegTestData"
    outcome = StandardizerCase(
        "monuseg", dataset="monuseg",
        files={f"{train}/Tissue Images/TCGA-18-5592-01Z-00-DX1.tif": tiff(svs_pixels[:100, :120]),
               f"{train}/Annotations/TCGA-18-5592-01Z-00-DX1.xml": MONUSEG_XML,
               f"{test}/TCGA-2Z-A9J9-01A-01-TS1.tif": tiff(svs_pixels[200:300, :120]),
               f"{test}/TCGA-2Z-A9J9-01A-01-TS1.xml": MONUSEG_XML},
        splits={"test": 1, "train": 1},
        rows={"train/TCGA-18-5592-01Z-00-DX1": {"width": 120, "height": 100, "nuclei": 2,
                                                "patient_id": "TCGA-18-5592"}},
    ).run()
    paths, row = outcome.paths, outcome.manifest.loc["train/TCGA-18-5592-01Z-00-DX1"]
    from PIL import Image

    instances = np.asarray(Image.open(paths.base / row["instance_mask"]))
    assert (instances == 1).sum() == 20 * 20 - 5 * 5 and (instances == 2).sum() == 20 * 20  # later wins
    assert np.asarray(Image.open(paths.base / row["mask"])).sum() == 20 * 20 * 2 - 25
    features = json.loads((paths.base / row["annotation"]).read_text())["features"]
    assert len(features) == 2 and features[0]["properties"]["classification"]["name"] == "Nucleus"


def test_consep_mat_maps(ihc_pixels):
    files = {}
    for split in ("Train", "Test"):
        rgba = np.dstack([ihc_pixels[:80, :90], np.full((80, 90), 255, np.uint8)])
        files[f"CoNSeP/{split}/Images/{split.lower()}_1.png"] = png(rgba)
        files[f"CoNSeP/{split}/Overlay/{split.lower()}_1.png"] = png(ihc_pixels[:80, :90])
        inst = np.zeros((80, 90), np.int32)
        inst[5:15, 5:15], inst[40:50, 40:60] = 1, 300
        types = np.where(inst == 1, 2, np.where(inst == 300, 5, 0)).astype(np.int32)
        files[f"CoNSeP/{split}/Labels/{split.lower()}_1.mat"] = mat(
            {"inst_map": inst, "type_map": types, "inst_type": np.array([[2], [5]]),
             "inst_centroid": np.array([[10.0, 10.0], [50.0, 45.0]])})
    outcome = StandardizerCase("consep", dataset="consep", files=files, splits={"test": 1, "train": 1},
                               rows={"train/train_1": {"nuclei": 2}}).run()
    ds, paths, row = outcome.ds, outcome.paths, outcome.manifest.loc["train/train_1"]
    from PIL import Image

    assert np.asarray(Image.open(paths.base / row["instance_mask"])).max() == 300   # 16-bit kept
    mask = ds.read_mask(int(np.flatnonzero(ds.manifest.sample_id == "train/train_1")[0]))
    assert mask[10, 10] == 2 and mask[45, 50] == 5 and mask[0, 0] == 0
    assert ds.class_map["mask_values"]["4"] == "dysplastic/malignant epithelial"


def test_lizard_maps_classes_through_ids(ihc_pixels):
    inst = np.zeros((60, 60), np.int32)
    inst[0:10, 0:10], inst[20:30, 20:30] = 7, 3
    labels = {"Lizard_Labels/Labels/consep_1.mat": mat({"inst_map": inst, "id": np.array([[3], [7]]),
                                                        "class": np.array([[6], [1]]), "bbox": np.zeros((2, 4)),
                                                        "centroid": np.zeros((2, 2))}),
              "Lizard_Labels/info.csv": "Filename,Source,Split\nconsep_1,consep,2\n"}
    ds = StandardizerCase(
        "lizard", dataset="lizard",
        files={"lizard_images1.zip": zipped({"Lizard_Images1/consep_1.png": png(ihc_pixels[:60, :60])}),
               "lizard_labels.zip": zipped(labels)},
        samples=1, rows={"consep_1": {"split": "fold2", "cohort": "consep", "nuclei": 2}},
    ).run().ds
    mask = ds.read_mask(0)
    assert mask[5, 5] == 1 and mask[25, 25] == 6   # id 7 -> class 1, id 3 -> class 6 (not by position)


def test_raw_lists_files_with_reason():
    StandardizerCase("raw", dataset="rawset", files={"sub/a.csv": "x", "b.tif": b"123"},
                     options={"reason": "no specific standardizer yet"},
                     columns={"image": ["raw/b.tif", "raw/sub/a.csv"], "bytes": [3, 1]},
                     record={"reason": "no specific standardizer yet"}).run()


def test_unknown_standardizer_is_a_clear_error():
    StandardizerCase("nope", dataset="x", validate_entry=False,   # as if the entry skipped validation
                     error=(StandardizeError, "unknown standardizer 'nope'.*folder-per-class")).run(quiet=None)


def test_every_catalog_entry_with_files_names_a_standardizer():
    from histodata.registry.loader import load_registry
    from histodata.standardize import STANDARDIZERS

    for entry in load_registry().dicts():
        if any(s.get("files") for s in entry.get("sources", [])):
            assert (entry.get("standardize") or {}).get("with") in STANDARDIZERS, entry["id"]
