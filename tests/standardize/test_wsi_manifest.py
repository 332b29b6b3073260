"""The `slides` standardizer: one row per slide file or DICOM series folder, the recorded metadata as
columns, on whatever part of the dataset is on disk; and the record's per-file metadata round trip."""
import json

import pandas as pd

from histodata.layout import dataset_paths, read_record
from histodata.record import DatasetRecord, FetchState, FileRecord, save_fetch
from histodata.standardize import standardize_dataset, works_on_part

ENTRY = {"id": "wsi-mix", "standardize": {"with": "slides"}}


def record_file(name: str, data: bytes, metadata: dict) -> FileRecord:
    return FileRecord.build(len(data), {"sha256": "0" * 64}, [], None, "gdc", 0, "now", metadata)


def test_slide_files_and_dicom_series_of_a_partial_fetch():
    paths = dataset_paths("wsi-mix")
    files = {
        "TCGA-BRCA/TCGA-A1-0001-01Z-00-DX1.AA.svs": (b"svs", {"case": "TCGA-A1-0001", "project": "TCGA-BRCA",
                                                           "file_id": "f-1"}),
        "series-1/inst-a.dcm": (b"dicom a", {"patient": "C3L-0001", "collection": "cptac_ov", "series": "1.2.3"}),
        "series-1/inst-b.dcm": (b"dicom bb", {"patient": "C3L-0001", "collection": "cptac_ov", "series": "1.2.3"}),
        "notes/readme.txt": (b"not a slide", {}),
    }
    for name, (data, _) in files.items():
        (paths.raw / name).parent.mkdir(parents=True, exist_ok=True)
        (paths.raw / name).write_bytes(data)
    save_fetch(paths, {n: record_file(n, d, m) for n, (d, m) in files.items()},
               FetchState(expected=sorted(files) + ["TCGA-BRCA/not-fetched.svs"]), ENTRY)
    report = standardize_dataset(ENTRY, paths)
    manifest = pd.read_parquet(paths.manifest).set_index("sample_id")
    assert report.samples == 2 and sorted(manifest.index) == ["TCGA-BRCA/TCGA-A1-0001-01Z-00-DX1.AA.svs",
                                                               "series-1"]
    svs = manifest.loc["TCGA-BRCA/TCGA-A1-0001-01Z-00-DX1.AA.svs"]
    assert svs["patient_id"] == "TCGA-A1-0001" and svs["project"] == "TCGA-BRCA" and svs["file_id"] == "f-1"
    assert svs["image"] == "raw/TCGA-BRCA/TCGA-A1-0001-01Z-00-DX1.AA.svs" and svs["slide_id"] == \
        "TCGA-A1-0001-01Z-00-DX1.AA"
    series = manifest.loc["series-1"]
    assert series["image"] == "raw/series-1" and series["files"] == 2 and series["bytes"] == 15
    assert series["patient_id"] == "C3L-0001" and series["slide_id"] == "1.2.3"
    assert series["collection"] == "cptac_ov"
    assert read_record(paths)["standardized"]["dicom_series"] == 1
    assert works_on_part(ENTRY) and not works_on_part({"standardize": {"with": "pcam"}})


def test_metadata_is_kept_in_the_record_and_old_records_still_read():
    paths = dataset_paths("meta")
    save_fetch(paths, {"a.svs": record_file("a.svs", b"a", {"case": "X"}),
                       "b.bin": record_file("b.bin", b"b", {})}, FetchState(), {"id": "meta"})
    document = read_record(paths)
    assert document["files"]["a.svs"]["metadata"] == {"case": "X"}
    assert "metadata" not in document["files"]["b.bin"]          # as before the field existed
    old = {"size": 1, "sha256": "0" * 64, "verified": {}, "verified_against": "none"}
    assert FileRecord.from_dict(old).metadata == {}
    adopted = FileRecord.build(1, {"sha256": "0" * 64}, [], "registry", "manual", 1, "later")
    save_fetch(paths, {"a.svs": adopted}, FetchState(), {"id": "meta"})   # --from later: metadata kept
    assert DatasetRecord.read(paths).files["a.svs"].metadata == {"case": "X"}
    assert json.loads(paths.record.read_text())["files"]["a.svs"]["source_kind"] == "manual"
