"""Whole-slide standardizers: camelyon (C16 + C17 replicas from the real SVS pixels) and herohe."""
from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd
import pytest
from std_case import StandardizerCase
from std_helpers import svs_pixels  # noqa: F401 - fixtures

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
    crop = np.ascontiguousarray(svs_pixels[:1024, :1024])
    files = {name: (lambda path: write_tiff_slide(path, crop))
             for name in ("CAMELYON16/training/normal/normal_001.tif", "CAMELYON16/training/tumor/tumor_001.tif",
                          "CAMELYON16/testing/images/test_001.tif",
                          "CAMELYON17/training/center_1/patient_020_node_4.tif")}
    files.update({
        "CAMELYON16/training/lesion_annotations/tumor_001.xml": ASAP.format(g0="_0", g1="_2"),
        "CAMELYON17/training/lesion_annotations/patient_020_node_4.xml": ASAP.format(g0="metastases",
                                                                                     g1="metastases"),
        "CAMELYON16/testing/reference.csv": "test_001,Tumor,Macro,Tumor\n",
        "CAMELYON17/training/stage_labels.csv":
            "patient,stage\npatient_020.zip,pN2\npatient_020_node_4.tif,macro\n",
    })
    outcome = StandardizerCase(
        "camelyon", dataset="camelyon", files=files, samples=4,
        rows={"normal_001": {"label": "normal", "annotation": None}, "tumor_001": {"label": "tumor"},
              "test_001": {"label": "tumor", "split": "test"},
              "patient_020_node_4": {"label": "macro", "patient_id": "patient_020", "patient_stage": "pN2",
                                     "center": "center_1", "width": 1024, "height": 1024,
                                     "mpp": pytest.approx(0.243)}},
    ).run()
    df, raw = outcome.manifest, outcome.paths.raw
    c17 = df.loc["patient_020_node_4"]
    assert os.path.samefile(outcome.paths.base / c17["image"],
                            raw / "CAMELYON17/training/center_1/patient_020_node_4.tif")
    features = json.loads((outcome.paths.base / df.loc["tumor_001", "annotation"]).read_text())["features"]
    assert [f["properties"]["classification"]["name"] for f in features] == ["Tumor", "Exclusion"]
    assert [f["properties"]["group"] for f in features] == ["_0", "_2"]
    assert features[0]["geometry"]["coordinates"][0][0] == [100.5, 100.25]
    assert outcome.ds.class_map["patient_stages"][0] == "pN0"


def test_herohe_mirax_labels_and_case_325():
    files = {}
    for case in ("1", "2", "325"):
        files[f"HEROHE/{case}.mrxs"] = b"MIRAX index placeholder"
        files[f"HEROHE/{case}/Slidedat.ini"] = "[GENERAL]\n"
        files[f"HEROHE/{case}/Data0000.dat"] = b"\0" * 64
    files["HEROHE_HER2_STATUS.xlsx"] = lambda path: pd.DataFrame(
        {"Case": [1, 2, 325], "HER2 Status": [1, 0, 0]}).to_excel(path, index=False)
    case = StandardizerCase("herohe", dataset="herohe", files=files, samples=2,
                            rows={"1": {"label": "positive"}, "2": {"label": "negative"}})
    outcome = case.run()
    assert sorted(outcome.manifest.index) == ["1", "2"]       # 325 excluded as the organisers advise
    paths = outcome.paths
    assert os.path.samefile(paths.images / "1" / "Data0000.dat", paths.raw / "HEROHE" / "1" / "Data0000.dat")
    case.again(options={"exclude": []}, samples=3, rows=None).run(write=False)
