"""Whole-slide standardizers: camelyon (C16 + C17 replicas from the real SVS pixels) and herohe."""
from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd
import pytest
from std_helpers import make_entry, svs_pixels  # noqa: F401 - fixtures

import histodata
from histodata.layout import dataset_paths
from histodata.standardize import standardize_dataset

ASAP = """<?xml version="1.0"?>
<ASAP_Annotations><Annotations>
<Annotation Name="Annotation 0" Type="Polygon" PartOfGroup="{g0}" Color="#F4FA58"><Coordinates>
<Coordinate Order="0" X="100.5" Y="100.25"/><Coordinate Order="1" X="900" Y="120"/><Coordinate Order="2" X="800" Y="700"/>
</Coordinates></Annotation>
<Annotation Name="Annotation 1" Type="Polygon" PartOfGroup="{g1}" Color="#64FE2E"><Coordinates>
<Coordinate Order="0" X="300" Y="200"/><Coordinate Order="1" X="400" Y="200"/><Coordinate Order="2" X="400" Y="300"/>
</Coordinates></Annotation>
</Annotations><AnnotationGroups><Group Name="{g0}" PartOfGroup="None" Color="#ff0000"><Attributes/></Group>
</AnnotationGroups></ASAP_Annotations>"""


def write_tiff_slide(path, pixels, mpp=0.243):
    """A tiled pyramidal TIFF like CAMELYON's (resolution tags in pixels per centimetre)."""
    import tifffile

    path.parent.mkdir(parents=True, exist_ok=True)
    with tifffile.TiffWriter(path) as tif:
        tif.write(pixels, tile=(256, 256), resolution=(1e4 / mpp, 1e4 / mpp), resolutionunit="CENTIMETER",
                  subifds=1, compression="zlib")
        tif.write(pixels[::4, ::4], tile=(256, 256), subfiletype=1, compression="zlib")


def test_camelyon16_and_17(svs_pixels):
    paths = dataset_paths("camelyon")
    crop = np.ascontiguousarray(svs_pixels[:1024, :1024])
    raw = paths.raw
    for name in ("CAMELYON16/training/normal/normal_001.tif", "CAMELYON16/training/tumor/tumor_001.tif",
                 "CAMELYON16/testing/images/test_001.tif",
                 "CAMELYON17/training/center_1/patient_020_node_4.tif"):
        write_tiff_slide(raw / name, crop)
    (raw / "CAMELYON16/training/lesion_annotations").mkdir(parents=True)
    (raw / "CAMELYON16/training/lesion_annotations/tumor_001.xml").write_text(ASAP.format(g0="_0", g1="_2"))
    (raw / "CAMELYON17/training/lesion_annotations").mkdir(parents=True)
    (raw / "CAMELYON17/training/lesion_annotations/patient_020_node_4.xml").write_text(
        ASAP.format(g0="metastases", g1="metastases"))
    (raw / "CAMELYON16/testing/reference.csv").write_text("test_001,Tumor,Macro,Tumor\n")
    (raw / "CAMELYON17/training/stage_labels.csv").write_text(
        "patient,stage\npatient_020.zip,pN2\npatient_020_node_4.tif,macro\n")
    report = standardize_dataset(make_entry("camelyon", "camelyon"), paths, quiet=True)
    df = histodata.load("camelyon").manifest.set_index("sample_id")
    assert report.samples == 4
    assert df.loc["normal_001", "label"] == "normal" and df.loc["tumor_001", "label"] == "tumor"
    assert df.loc["test_001", ["label", "split"]].tolist() == ["tumor", "test"]
    c17 = df.loc["patient_020_node_4"]
    assert (c17["label"], c17["patient_id"], c17["patient_stage"], c17["center"]) == \
        ("macro", "patient_020", "pN2", "center_1")
    assert (c17["width"], c17["height"]) == (1024, 1024) and c17["mpp"] == pytest.approx(0.243)
    assert os.path.samefile(paths.base / c17["image"], raw / "CAMELYON17/training/center_1/patient_020_node_4.tif")
    features = json.loads((paths.base / df.loc["tumor_001", "annotation"]).read_text())["features"]
    assert [f["properties"]["classification"]["name"] for f in features] == ["Tumor", "Exclusion"]
    assert [f["properties"]["group"] for f in features] == ["_0", "_2"]
    assert features[0]["geometry"]["coordinates"][0][0] == [100.5, 100.25]
    assert pd.isna(df.loc["normal_001", "annotation"])
    assert histodata.load("camelyon").class_map["patient_stages"][0] == "pN0"


def test_herohe_mirax_labels_and_case_325(tmp_path):
    paths = dataset_paths("herohe")
    for case in ("1", "2", "325"):
        (paths.raw / "HEROHE" / f"{case}.mrxs").parent.mkdir(parents=True, exist_ok=True)
        (paths.raw / "HEROHE" / f"{case}.mrxs").write_bytes(b"MIRAX index placeholder")
        (paths.raw / "HEROHE" / case).mkdir()
        (paths.raw / "HEROHE" / case / "Slidedat.ini").write_text("[GENERAL]\n")
        (paths.raw / "HEROHE" / case / "Data0000.dat").write_bytes(b"\0" * 64)
    pd.DataFrame({"Case": [1, 2, 325], "HER2 Status": [1, 0, 0]}).to_excel(
        paths.raw / "HEROHE_HER2_STATUS.xlsx", index=False)
    standardize_dataset(make_entry("herohe", "herohe"), paths, quiet=True)
    df = histodata.load("herohe").manifest.set_index("sample_id")
    assert sorted(df.index) == ["1", "2"]       # 325 excluded as the organisers advise
    assert df.loc["1", "label"] == "positive" and df.loc["2", "label"] == "negative"
    assert os.path.samefile(paths.images / "1" / "Data0000.dat", paths.raw / "HEROHE" / "1" / "Data0000.dat")
    standardize_dataset(make_entry("herohe", "herohe", exclude=[]), paths, quiet=True)
    assert len(histodata.load("herohe").manifest) == 3
