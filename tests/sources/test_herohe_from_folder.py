"""The real `herohe` entry, adopted from a folder laid out as its card asks (`histodata info
herohe`): MIRAX slides (`<case>.mrxs` + a same-name folder of `.dat` files) and the label workbook,
found by the manual source's `patterns`, standardized (case 325 left out) and verified."""
from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest
from helpers import run_cli

import histodata
from histodata.layout import dataset_paths

LABELS = {"1": "Positive", "2": "Negative", "17": "Negative", "325": "Negative"}


def mirax_slide(folder, case: str) -> None:
    """One MIRAX slide as the scanner writes it: X.mrxs and X/ with Slidedat.ini and .dat files."""
    (folder / f"{case}.mrxs").write_bytes(f"mirax index of case {case}".encode())
    data = folder / case
    data.mkdir()
    (data / "Slidedat.ini").write_text(f"[GENERAL]\nSLIDE_ID = {case}\n")
    for n in range(3):
        (data / f"Data{n:04d}.dat").write_bytes(f"{case}:{n}".encode() * 50)


def herohe_folder(root, cases=tuple(LABELS)):
    root.mkdir(parents=True)
    for case in cases:
        mirax_slide(root, case)
    pd.DataFrame({"Case": [int(c) for c in LABELS], "HER2 status": list(LABELS.values())}).to_excel(
        root / "HEROHE_HER2_STATUS.xlsx", index=False)
    (root / "readme-from-the-organisers.txt").write_text("not part of the dataset")
    return root


def test_herohe_is_adopted_standardized_and_verified_from_a_folder(tmp_path):
    incoming = herohe_folder(tmp_path / "HEROHE")
    result = run_cli("fetch", "herohe", "--from", str(incoming), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    adopted = {f["name"] for f in report["files"]}
    assert {"HEROHE_HER2_STATUS.xlsx", "1.mrxs", "1/Slidedat.ini", "1/Data0002.dat", "325.mrxs"} <= adopted
    assert "readme-from-the-organisers.txt" not in adopted

    shutil.rmtree(incoming)                     # adopted by hard link: nothing depends on DIR now
    manifest = histodata.load("herohe").manifest
    assert sorted(manifest["slide_id"]) == ["1", "17", "2"]          # case 325 left out, as advised
    assert dict(zip(manifest["slide_id"], manifest["label"])) == {"1": "positive", "2": "negative",
                                                                  "17": "negative"}
    base = dataset_paths("herohe").base
    for image in manifest["image"]:
        assert (base / image).is_file()
        assert (base / image).with_suffix("").joinpath("Slidedat.ini").is_file()   # the .dat folder came along

    verify = run_cli("verify", "herohe")
    assert verify.returncode == 0, verify.stderr + verify.stdout


def test_a_folder_without_slides_is_not_complete(tmp_path):
    incoming = herohe_folder(tmp_path / "HEROHE", cases=())
    result = run_cli("fetch", "herohe", "--from", str(incoming))
    assert result.returncode == 1
    assert "files matching *.mrxs" in result.stderr


def test_a_slide_without_its_data_folder_is_reported(tmp_path):
    incoming = herohe_folder(tmp_path / "HEROHE", cases=("1",))
    (incoming / "2.mrxs").write_bytes(b"an index whose data folder was not copied")
    result = run_cli("fetch", "herohe", "--from", str(incoming))
    assert result.returncode == 1
    assert "2/ (the MIRAX data folder of 2.mrxs)" in result.stderr


@pytest.mark.parametrize("selection", ["1.mrxs", "1*"])
def test_files_narrows_the_slides_found_by_pattern(tmp_path, selection):
    incoming = herohe_folder(tmp_path / "HEROHE")
    result = run_cli("fetch", "herohe", "--from", str(incoming), "--files", selection, "--json")
    assert result.returncode == 0, result.stderr
    names = {f["name"] for f in json.loads(result.stdout)["files"]}
    assert "1.mrxs" in names and "1/Slidedat.ini" in names
    assert not any(n.startswith(("2", "325")) for n in names)


def test_files_that_match_nothing_in_the_folder_is_an_error(tmp_path):
    incoming = herohe_folder(tmp_path / "HEROHE")
    result = run_cli("fetch", "herohe", "--from", str(incoming), "--files", "999.mrxs")
    assert result.returncode == 1
    assert "matched none of the files herohe expects" in result.stderr
