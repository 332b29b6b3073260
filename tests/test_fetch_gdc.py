"""`histodata fetch tcga` end to end through the GDC emulator: `--where` selection (AND, `A,B`,
with `--files`), unknown fields and empty selections, dry-run groups, faults with the rest still
fetched, the token kept out of everything, per-file metadata in the record and the slides manifest."""
import hashlib
import json

import pandas as pd
import pytest

from emulators.gdc import GDCEmulator
from helpers import assert_secrets_absent, run_cli
from histodata.layout import dataset_paths, read_record

SLIDES = {   # file id -> (name, project, case, strategy, bytes)
    "f-brca-1": ("TCGA-A1-0001-01Z-00-DX1.AA.svs", "TCGA-BRCA", "TCGA-A1-0001", "Diagnostic Slide", b"brca dx 1" * 50),
    "f-brca-2": ("TCGA-A1-0002-01Z-00-DX1.BB.svs", "TCGA-BRCA", "TCGA-A1-0002", "Diagnostic Slide", b"brca dx 2" * 70),
    "f-brca-3": ("TCGA-A1-0002-01A-01-TS1.CC.svs", "TCGA-BRCA", "TCGA-A1-0002", "Tissue Slide", b"brca ts" * 30),
    "f-luad-1": ("TCGA-L1-0001-01Z-00-DX1.DD.svs", "TCGA-LUAD", "TCGA-L1-0001", "Diagnostic Slide", b"luad dx" * 90),
    "f-coad-1": ("TCGA-C1-0001-01Z-00-DX1.EE.svs", "TCGA-COAD", "TCGA-C1-0001", "Diagnostic Slide", b"coad" * 10),
}
TOKEN = "gdc-secret-token-5e5e5e5e5e"


@pytest.fixture
def api(emulate, monkeypatch):
    emulator = emulate(GDCEmulator())
    for file_id, (name, project, case, strategy, data) in SLIDES.items():
        emulator.add(file_id, name, data, project, case, experimental_strategy=strategy)
    emulator.add("f-ctrl", "TCGA-C1-0009-01Z-00-DX1.FF.svs", b"controlled", "TCGA-COAD", "TCGA-C1-0009",
                 access="controlled")
    monkeypatch.setenv("HISTODATA_RETRIES", "4")
    return emulator


def raw_names() -> set[str]:
    raw = dataset_paths("tcga").raw
    return {p.relative_to(raw).as_posix() for p in raw.rglob("*")
            if p.is_file() and not p.name.startswith(".")} if raw.is_dir() else set()    # (engine locks)


def path_of(file_id: str) -> str:
    name, project, *_ = SLIDES[file_id]
    return f"{project}/{name}"


def fetch(*args, env=None):
    return run_cli("fetch", "tcga", "--quiet", *args, env=env)


def test_where_selects_exactly_those_slides_verified_recorded_and_standardized(api):
    result = fetch("--where", "project=TCGA-BRCA", "--where", "experimental_strategy=Diagnostic Slide", "--json")
    assert result.returncode == 0, result.stderr
    assert raw_names() == {path_of("f-brca-1"), path_of("f-brca-2")}
    document = json.loads(result.stdout)
    assert {f["name"] for f in document["files"]} == raw_names()
    assert all(f["checksum"] == "md5 (provider)" for f in document["files"])
    raw = dataset_paths("tcga").raw
    for file_id in ("f-brca-1", "f-brca-2"):
        assert (raw / path_of(file_id)).read_bytes() == SLIDES[file_id][4]
    record = read_record(dataset_paths("tcga"))
    assert record["files"][path_of("f-brca-2")]["metadata"]["case"] == "TCGA-A1-0002"
    assert document["standardized"]                       # the slides standardizer works on a part
    manifest = pd.read_parquet(dataset_paths("tcga").manifest)
    assert sorted(manifest["patient_id"]) == ["TCGA-A1-0001", "TCGA-A1-0002"]
    assert set(manifest["project"]) == {"TCGA-BRCA"} and set(manifest["file_id"]) == {"f-brca-1", "f-brca-2"}
    assert sorted(manifest["image"]) == sorted(f"raw/{path_of(i)}" for i in ("f-brca-1", "f-brca-2"))

    more = fetch("--where", "project=TCGA-LUAD")          # a later selection joins the manifest
    assert more.returncode == 0, more.stderr
    assert len(pd.read_parquet(dataset_paths("tcga").manifest)) == 3


def test_either_value_and_files_compose(api):
    result = fetch("--where", "project=tcga-luad,TCGA-COAD", "--files", "*DX1*")   # values ignore case
    assert result.returncode == 0, result.stderr
    assert raw_names() == {path_of("f-luad-1"), path_of("f-coad-1")}


def test_unknown_field_lists_the_fields_and_nothing_moves(api):
    result = fetch("--where", "projekt=TCGA-BRCA")
    assert result.returncode != 0
    assert "projekt" in result.stderr and "project (" in result.stderr and "case (" in result.stderr
    assert "Traceback" not in result.stderr and not api.server.requests      # refused before any request


def test_a_selection_matching_nothing_is_a_clear_error(api):
    result = fetch("--where", "project=TCGA-NOPE", "--dry-run")
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "matches none" in result.stderr and "TCGA-BRCA" in result.stderr    # shows values that exist
    result = fetch("--where", "project=TCGA-BRCA", "--where", "case=TCGA-L1-0001")
    assert result.returncode != 0 and "other conditions" in result.stderr
    assert raw_names() == set()


def test_dry_run_counts_and_bytes_per_project_in_the_table_and_json(api):
    result = fetch("--dry-run")
    assert result.returncode == 0, result.stderr
    lines = {line.split("│")[1].strip(): line for line in result.stdout.splitlines() if line.count("│") >= 3}
    assert "TCGA-BRCA" in lines and " 3 " in lines["TCGA-BRCA"]
    document = json.loads(fetch("--dry-run", "--json").stdout)
    brca = sum(len(SLIDES[i][4]) for i in ("f-brca-1", "f-brca-2", "f-brca-3"))
    assert document["group_by"] == "project"
    assert document["groups"]["TCGA-BRCA"] == {"files": 3, "bytes": brca}
    assert document["groups"]["TCGA-COAD"]["files"] == 1                       # the controlled file: not listed
    assert document["files"][0]["metadata"]["project"]
    assert not raw_names() and not api.server.seen("/data/")


def test_faults_are_reported_and_the_rest_is_fetched_and_verified(api):
    api.throttle(1, status=429, route="files")            # the search is retried
    api.files["f-luad-1"].served_access = "controlled"    # listed open, refused: 403
    api.throttle(2, status=503, route="data")            # a 5xx storm on downloads: retried
    api.throttle(1, status=429, route="data")
    result = fetch("--where", "experimental_strategy=Diagnostic Slide", "--workers", "2")
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "403" in result.stderr and "data/f-luad-1" in result.stderr
    error = [line for line in result.stderr.splitlines() if line.startswith("error:")][0]
    assert "--from DIR" not in error           # one refused file is not the entry's access problem
    assert "answered HTTP 503" in result.stderr and "answered HTTP 429" in result.stderr   # said, then retried
    assert raw_names() == {path_of("f-brca-1"), path_of("f-brca-2"), path_of("f-coad-1")}
    record = read_record(dataset_paths("tcga"))
    for name in raw_names():
        data = (dataset_paths("tcga").raw / name).read_bytes()
        assert record["files"][name]["sha256"] == hashlib.sha256(data).hexdigest()
    api.files["f-luad-1"].served_access = None
    asked = len(api.server.seen("/data/f-brca-1"))
    again = fetch("--where", "experimental_strategy=Diagnostic Slide")
    assert again.returncode == 0, again.stderr
    assert len(api.server.seen("/data/f-brca-1")) == asked      # finished files are not fetched again
    assert path_of("f-luad-1") in raw_names()


def test_the_token_opens_controlled_files_and_appears_nowhere(api, tmp_path):
    api.tokens[TOKEN] = {"TCGA-COAD"}
    result = fetch("--where", "project=TCGA-COAD", "--json", env={"GDC_TOKEN": TOKEN})
    assert result.returncode == 0, result.stderr
    assert "TCGA-COAD/TCGA-C1-0009-01Z-00-DX1.FF.svs" in raw_names()
    assert api.server.seen("/data/f-ctrl")[-1].headers["x-auth-token"] == TOKEN
    bad = run_cli("-v", "fetch", "tcga", "--quiet", "--where", "project=TCGA-COAD", "--root", str(tmp_path / "r"),
                  env={"GDC_TOKEN": TOKEN + "-wrong"})
    assert bad.returncode != 0 and "403" in bad.stderr
    assert_secrets_absent([TOKEN], result.stdout, result.stderr, bad.stdout, bad.stderr,
                          root=dataset_paths("tcga").base)


def test_python_api_where(api):
    import histodata

    report = histodata.fetch("tcga", where={"project": ["TCGA-LUAD", "TCGA-COAD"], "case": "TCGA-L1-*"},
                             quiet=True)
    assert [f.name for f in report.files] == [path_of("f-luad-1")]
    assert report.files[0].metadata["case"] == "TCGA-L1-0001"


def test_one_refused_file_is_not_the_entrys_access_problem(api):
    """Some files in place and one refused (403): the error names that file, not the entry's manual
    instructions and --from (that error is for an entry no file of which can be fetched)."""
    api.files["f-luad-1"].served_access = "controlled"
    result = fetch("--where", "experimental_strategy=Diagnostic Slide", "--source", "1")
    assert result.returncode != 0 and "Traceback" not in result.stderr
    error = [line for line in result.stderr.splitlines() if line.startswith("error:")][0]
    assert "f-luad-1" in error and "--from DIR" not in error
    assert raw_names() == {path_of("f-brca-1"), path_of("f-brca-2"), path_of("f-coad-1")}
