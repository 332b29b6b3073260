"""The real folder-per-class entries against small stand-ins laid out as their owners publish them:
each entry's own `standardize` options must give the classes and splits the dataset defines."""
from __future__ import annotations

import pytest
from std_case import StandardizerCase, gradient, png, zipped

from histodata.registry.loader import load_registry


def options(entry_id: str) -> dict:
    standardize = load_registry().get_dict(entry_id)["standardize"]
    assert standardize["with"] == "folder-per-class"
    return standardize.get("options") or {}


def tile(n: int):
    return png((8 + n % 5, 8))


def jpeg(n: int):
    from PIL import Image

    return lambda path: Image.fromarray(gradient(8 + n % 5, 8)).save(path, "JPEG")


def test_nct_crc_he_100k_archives_give_train_and_test():
    classes = load_registry().get_dict("nct-crc-he-100k")["classes"]
    files = {f"{root}.zip": zipped({f"{root}/{cls}/{cls}-{root[:3]}{i}.tif": tile(i)
                                    for cls in classes for i in range(2)})
             for root in ("NCT-CRC-HE-100K", "CRC-VAL-HE-7K")}
    StandardizerCase("folder-per-class", dataset="nct-crc-he-100k", options=options("nct-crc-he-100k"),
                     files=files, samples=36, splits={"train": 18, "test": 18}, classes=sorted(classes)).run()


def test_lc25000_organ_folders_are_not_splits():
    layout = {"colon_image_sets": ("colon_aca", "colon_n"), "lung_image_sets": ("lung_aca", "lung_n", "lung_scc")}
    members = {f"lung_colon_image_set/{organ}/{cls}/{cls.replace('_', '')}{i}.jpeg": jpeg(i)
               for organ, classes in layout.items() for cls in classes for i in range(1, 3)}
    outcome = StandardizerCase("folder-per-class", dataset="lc25000", options=options("lc25000"),
                               files={"LC25000.zip": zipped(members)}, samples=10,
                               classes=load_registry().get_dict("lc25000")["classes"]).run()
    assert outcome.ds.manifest["split"].isna().all()


def test_bach_photos_are_the_labelled_training_set():
    members = {f"ICIAR2018_BACH_Challenge/Photos/{cls}/{prefix}{i:03d}.tif": tile(i)
               for cls, prefix in (("Normal", "n"), ("Benign", "b"), ("InSitu", "is"), ("Invasive", "iv"))
               for i in range(1, 3)}
    members["ICIAR2018_BACH_Challenge/Photos/microscopy_ground_truth.csv"] = "b001.tif,Benign\n"
    members["ICIAR2018_BACH_Challenge/WSI/A01.png"] = tile(0)         # the WSI folder: not a class
    StandardizerCase("folder-per-class", dataset="bach", options=options("bach"),
                     files={"ICIAR2018_BACH_Challenge.zip": zipped(members)}, samples=8, splits={"train": 8},
                     classes=["Benign", "InSitu", "Invasive", "Normal"],
                     rows={"ICIAR2018_BACH_Challenge/Photos/InSitu/is001": {"label": "InSitu", "split": "train"}}).run()


def test_bracs_roi_type_folders_become_the_entry_classes():
    folders = ["0_N", "1_PB", "2_UDH", "3_FEA", "4_ADH", "5_DCIS", "6_IC"]
    files = {f"BRACS_RoI/latest_version/{split}/{folder}/BRACS_{i}_{folder[2:]}_1.png": tile(i)
             for split in ("train", "val", "test") for i, folder in enumerate(folders)}
    StandardizerCase("folder-per-class", dataset="bracs", options=options("bracs"), files=files, samples=21,
                     splits={"train": 7, "val": 7, "test": 7},
                     classes=load_registry().get_dict("bracs")["classes"],
                     rows={"BRACS_RoI/latest_version/val/5_DCIS/BRACS_5_DCIS_1": {"label": "DCIS", "split": "val"}},
                     ).run()


@pytest.mark.parametrize("inside", ["{cls}/", ""], ids=["folder-in-zip", "flat-zip"])
def test_kather_gi_one_zip_per_class(inside):
    classes = load_registry().get_dict("kather-gi-tumor-detection")["classes"]
    files = {f"{cls}.zip": zipped({f"{inside.format(cls=cls)}{cls[:3]}-AAA{i}.png": tile(i) for i in range(3)})
             for cls in classes}
    outcome = StandardizerCase("folder-per-class", dataset="kather-gi-tumor-detection",
                               options=options("kather-gi-tumor-detection"), files=files, samples=9,
                               classes=classes).run()
    assert outcome.ds.manifest["split"].isna().all()


def test_aml_cytomorphology_classes_below_the_doubled_folder_and_no_split():
    classes = ["BAS", "LYT", "MYB"]
    files = {f"AML-Cytomorphology_LMU/AML-Cytomorphology_LMU/{cls}/{cls}_{i:04d}.tiff": tile(i)
             for cls in classes for i in range(1, 3)}
    files["AML-Cytomorphology_LMU/AML-Cytomorphology_LMU/MYB/MYB_0009.tiff.tiff"] = tile(9)   # as published
    files["AML-Cytomorphology_LMU/annotations.dat"] = "BAS/BAS_0001.tiff BAS\n"
    outcome = StandardizerCase("folder-per-class", dataset="aml-cytomorphology-lmu",
                               options=options("aml-cytomorphology-lmu"), files=files, samples=7,
                               classes=classes, labels={"BAS": 2, "LYT": 2, "MYB": 3}).run()
    assert outcome.ds.manifest["split"].isna().all()


def test_bone_marrow_classes_with_and_without_range_folders():
    files = {"BM_cytomorphology_data/ABE/ABE_00001.jpg": jpeg(1),          # a small class: flat
             "BM_cytomorphology_data/ABE/ABE_00002.jpg": jpeg(2),
             "BM_cytomorphology_data/ART/0001-1000/ART_00001.jpg": jpeg(3),  # a large one: range folders
             "BM_cytomorphology_data/ART/0001-1000/ART_00002.jpg": jpeg(4),
             "BM_cytomorphology_data/ART/1001-2000/ART_01001.jpg": jpeg(5),
             "BM_cytomorphology_data/NGS/18001-19000/NGS_18642.jpg": jpeg(6),
             "BM_cytomorphology_data/NGS/18001-19000/NGS_18643.jpg": jpeg(7),
             "BM_cytomorphology_data/NGS/18001-19000/NGS_18644.jpg": jpeg(8)}
    outcome = StandardizerCase("folder-per-class", dataset="bone-marrow-cytomorphology",
                               options=options("bone-marrow-cytomorphology"), files=files, samples=8,
                               classes=["ABE", "ART", "NGS"], labels={"ABE": 2, "ART": 3, "NGS": 3},
                               rows={"BM_cytomorphology_data/ART/1001-2000/ART_01001": {"label": "ART"}}).run()
    assert outcome.ds.manifest["split"].isna().all()
    assert outcome.record["standardized"]["skipped_images"] == 0
