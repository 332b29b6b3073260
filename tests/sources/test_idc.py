"""`kind: idc`: the series index (a tiny parquet in idc-index-data's real schema, as a stand-in
`idc_index_data` package) and IDC's public bucket in moto's S3 server, reached through the mirror map.
Traps: CT and annotation series in a slide collection, another collection, a series the bucket lacks."""
import hashlib
import json
import sys

import pytest

from emulators.idc import BUCKET, ORIGIN, Series, fill_bucket, instances, write_index_package
from histodata.errors import DownloadError
from histodata.http import new_session
from histodata.registry.models import Source
from histodata.sources import idc

OV_A = Series("cptac_ov", "C3L-00001", "Ovary tumor", instances("ov-a", 3))
OV_B = Series("cptac_ov", "C3L-00002", "Ovary normal", instances("ov-b", 2))
OV_CT = Series("cptac_ov", "C3L-00001", "CT abdomen", instances("ov-ct", 2), modality="CT")
OV_ANN = Series("cptac_ov", "C3L-00002", "Nuclei annotations", instances("ov-ann", 1), modality="ANN")
TCGA = "CC BY 3.0"
BRCA_DX = Series("tcga_brca", "TCGA-3C-AAAU", "FFPE HE TP DX1", instances("brca-dx", 2), license=TCGA)
BRCA_TS = Series("tcga_brca", "TCGA-3C-AAAU", "Frozen HE TP TS1", instances("brca-ts", 2), license=TCGA)
GONE = Series("tcga_brca", "TCGA-A1-A0SB", "FFPE HE TP DX1", instances("gone", 2), license=TCGA, in_bucket=False)
BIG = Series("cptac_ccrcc", "C3L-00004", "Kidney tumor", instances("big", 2, size=300))
BIG.multipart = {next(iter(BIG.instances))}
SERIES = [OV_A, OV_B, OV_CT, OV_ANN, BRCA_DX, BRCA_TS, GONE, BIG]


@pytest.fixture(scope="module")
def moto_url():
    import boto3
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    client = boto3.client("s3", endpoint_url=url, region_name="us-east-1", aws_access_key_id="test",
                          aws_secret_access_key="test")
    client.create_bucket(Bucket=BUCKET)
    fill_bucket(client, SERIES)
    yield url
    server.stop()


@pytest.fixture
def idc_index(tmp_path, monkeypatch):
    """The stand-in idc_index_data package on sys.path and on PYTHONPATH (for the CLI's process)."""
    folder = write_index_package(tmp_path / "site", SERIES)
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.delitem(sys.modules, "idc_index_data", raising=False)
    monkeypatch.setenv("PYTHONPATH", f"{folder}:{__import__('os').environ.get('PYTHONPATH', '')}")
    return folder


@pytest.fixture
def bucket(moto_url, idc_index, emulate):
    emulate.route(ORIGIN, f"{moto_url}/{BUCKET}")
    return moto_url


def listed(**fields):
    source = Source(kind="idc", **fields)
    return {f.name: f for f in idc.list_files(source, new_session(), None)}


def folder(series: Series) -> str:
    return f"{series.collection}/{series.patient}/{series.uid}"


def test_listing_takes_the_sm_series_of_the_collection_with_their_metadata(bucket):
    files = listed(collections=["cptac_ov"])
    assert set(files) == {f"{folder(s)}/{i}.dcm" for s in (OV_A, OV_B) for i in s.instances}
    remote = files[f"{folder(OV_A)}/{next(iter(OV_A.instances))}.dcm"]
    assert remote.metadata == {"collection": "cptac_ov", "patient": "C3L-00001", "study": OV_A.study,
                               "series": OV_A.uid, "series_description": "Ovary tumor", "modality": "SM",
                               "license": "CC BY 4.0"}
    assert remote.url.startswith(f"{ORIGIN}/{OV_A.crdc}/") and remote.headers == {}
    assert remote.source_kind == "idc" and remote.downloader is None


def test_etags_that_are_md5s_are_used_and_sizes_come_from_the_listing(bucket):
    files = listed(collections=["cptac_ccrcc"])
    single, multi = (next(k for k in BIG.instances if (k in BIG.multipart) == flag) for flag in (False, True))
    one = files[f"{folder(BIG)}/{single}.dcm"]
    assert one.checksums == {"md5": hashlib.md5(BIG.instances[single]).hexdigest()}
    assert one.checksum_origin == "provider" and one.size == 300
    other = files[f"{folder(BIG)}/{multi}.dcm"]
    assert other.checksums == {} and other.size == 300 and other.verified_by == "size only (unverified)"


def test_modality_and_series_description_filters(bucket):
    ct = listed(collections=["cptac_ov"], modality="ct")
    assert {f.metadata["series"] for f in ct.values()} == {OV_CT.uid}
    diagnostic = listed(collections=["tcga_brca"], series_description="ffpe*")
    assert {f.metadata["series"] for f in diagnostic.values()} == {BRCA_DX.uid, GONE.uid}
    assert all(f.metadata["license"] == "CC BY 3.0" for f in diagnostic.values())


def test_a_series_missing_from_the_bucket_is_one_placeholder_that_fails_clearly(bucket, tmp_path):
    files = listed(collections=["tcga_brca"])
    placeholder = files[f"{folder(GONE)}/{idc.MISSING}"]
    assert placeholder.downloader == "idc" and sum(f.downloader == "idc" for f in files.values()) == 1
    expected = f"IDC series {GONE.uid} .*has no objects at {ORIGIN}/{GONE.crdc}/"
    with pytest.raises(DownloadError, match=expected):
        idc.download(placeholder, tmp_path / "x")


def test_an_unknown_collection_is_a_clear_error(bucket):
    with pytest.raises(DownloadError, match=r"no SM series in collection\(s\) cptac_nope"):
        listed(collections=["cptac_nope"])


def test_the_estimate_uses_the_index_sizes_without_the_bucket(idc_index):
    estimate = idc.estimate(Source(kind="idc", collections=["cptac_ov", "tcga_brca"]))
    sizes = {remote.name: remote.size for remote in estimate}
    assert sizes == {folder(s): round(s.size_mb * 1e6) for s in (OV_A, OV_B, BRCA_DX, BRCA_TS, GONE)}


def test_without_the_extra_the_error_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "idc_index_data", None)      # import fails as when not installed
    with pytest.raises(DownloadError) as caught:
        listed(collections=["cptac_ov"])
    assert "idc-index-data" in str(caught.value) and 'pip install "histodata-pathology[idc]"' in caught.value.hint


def test_fetch_end_to_end_verified_with_the_missing_series_reported(bucket, extra_registry):
    from emulators.entries import entry_yaml
    from helpers import run_cli
    from histodata.layout import dataset_paths, read_record

    extra_registry(entry_yaml("idc-test", {"kind": "idc", "collections": ["tcga_brca", "cptac_ccrcc"]},
                              modality="wsi"))
    plan = json.loads(run_cli("fetch", "idc-test", "--dry-run", "--json").stdout)
    assert plan["listed_from"] == "index"            # how big it is, from the index: no bucket listing
    assert sorted(f["name"] for f in plan["files"]) == sorted(folder(s) for s in (BRCA_DX, BRCA_TS, GONE, BIG))
    brca = json.loads(run_cli("fetch", "idc-test", "--dry-run", "--json", "--where", "collection=tcga_brca").stdout)
    assert sorted(f["name"] for f in brca["files"]) == sorted(folder(s) for s in (BRCA_DX, BRCA_TS, GONE))
    result = run_cli("fetch", "idc-test", "--json")
    assert result.returncode != 0
    assert f"IDC series {GONE.uid}" in result.stderr and "Traceback" not in result.stderr
    raw = dataset_paths("idc-test").raw
    for series in (BRCA_DX, BRCA_TS, BIG):
        for instance, data in series.instances.items():
            assert (raw / folder(series) / f"{instance}.dcm").read_bytes() == data
    assert not list((raw / folder(GONE)).glob("*"))
    recorded = read_record(dataset_paths("idc-test"))["files"]
    dx = recorded[f"{folder(BRCA_DX)}/{next(iter(BRCA_DX.instances))}.dcm"]
    assert dx["verified"] == {"md5": hashlib.md5(next(iter(BRCA_DX.instances.values()))).hexdigest()}
    multi = next(iter(BIG.multipart))
    assert recorded[f"{folder(BIG)}/{multi}.dcm"]["verified_against"] == "none"
    assert not any(name.endswith(idc.MISSING) for name in recorded)

